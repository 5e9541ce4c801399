//! A synthetic corpus batch for tests and benchmarks: the schema of issue 4.
//!
//! ```text
//! id: int64 not null
//! text: utf8                                   (field metadata comment=free text)
//! lang: dictionary<int32, utf8>
//! score: float64
//! created: timestamp[us, tz=UTC]
//! tags: list<item: utf8>
//! messages: list<item: struct<role: utf8, content: utf8>>
//! meta: struct<author: utf8, source: utf8>
//! schema metadata: origin=scrubline-testdata
//! ```
//!
//! All personal data is synthetic: e-mails at `example.com`/`example.org`, Chinese resident
//! ids with a valid check digit and an invented serial, Luhn-valid card numbers of the
//! `4111 1111 1111` test range, and `+86 139` mobile numbers. Some values are null at
//! every level. Every tenth row (`i % 10 == 9`) repeats the strings of the row before it
//! (with a new `id`, `score` and `created`), so a deduplicating run drops it.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{
    FixedSizeListBuilder, LargeListBuilder, LargeStringBuilder, MapBuilder, StringBuilder,
    StringDictionaryBuilder,
};
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, Float64Array, Int64Array, LargeStringArray, ListArray, RecordBatch, StringArray,
    StringViewArray, StructArray, TimestampMicrosecondArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// The schema of [`sample_batch`].
pub fn sample_schema() -> SchemaRef {
    let msg = Fields::from(vec![
        Field::new("role", DataType::Utf8, false),
        Field::new("content", DataType::Utf8, true),
    ]);
    let meta = Fields::from(vec![
        Field::new("author", DataType::Utf8, true),
        Field::new("source", DataType::Utf8, true),
    ]);
    let text = Field::new("text", DataType::Utf8, true).with_metadata(HashMap::from([(
        "comment".to_string(),
        "free text".to_string(),
    )]));
    Arc::new(
        Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            text,
            Field::new_dictionary("lang", DataType::Int32, DataType::Utf8, true),
            Field::new("score", DataType::Float64, true),
            Field::new(
                "created",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new_list("tags", Field::new_list_field(DataType::Utf8, true), true),
            Field::new_list(
                "messages",
                Field::new_list_field(DataType::Struct(msg), true),
                true,
            ),
            Field::new_struct("meta", meta, true),
        ])
        .with_metadata(HashMap::from([(
            "origin".to_string(),
            "scrubline-testdata".to_string(),
        )])),
    )
}

/// SplitMix64: a tiny deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A synthetic Chinese resident id (GB 11643) with a valid check character.
pub fn cn_resident_id(n: u64) -> String {
    let day = 1 + n % 28;
    let month = 1 + (n / 28) % 12;
    let year = 1950 + (n / 336) % 60;
    let body = format!("110105{year:04}{month:02}{day:02}{:03}", 100 + n % 900);
    let check = cn_check(&body);
    format!("{body}{check}")
}

/// The GB 11643 check character of a 17-digit body (ISO 7064 MOD 11-2).
fn cn_check(body: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

/// A Luhn-valid 16-digit test card number, grouped by 4.
pub fn card_number(n: u64) -> String {
    let body = format!("411111111111{:03}", n % 1000);
    let digits: Vec<u32> = body.bytes().map(|b| u32::from(b - b'0')).collect();
    // Luhn over body + check: double every second digit from the right of the full number.
    let mut sum = 0;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = *d;
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    let check = (10 - sum % 10) % 10;
    let s = format!("{body}{check}");
    format!("{} {} {} {}", &s[0..4], &s[4..8], &s[8..12], &s[12..16])
}

/// A Chinese mobile number in the `+86 139-xxxx-xxxx` form.
pub fn cn_mobile(n: u64) -> String {
    format!("+86 139-{:04}-{:04}", (n / 10_000) % 10_000, n % 10_000)
}

/// `rows` synthetic rows (see the [module docs](self)); the same `(rows, seed)` always gives
/// the same batch.
pub fn sample_batch(rows: usize, seed: u64) -> RecordBatch {
    let mut rng = Rng(seed);
    let langs = ["en", "zh", "fr", "de"];
    let roles = ["user", "assistant", "system"];
    let mut ids = Vec::with_capacity(rows);
    let mut texts: Vec<Option<String>> = Vec::with_capacity(rows);
    let mut lang = StringDictionaryBuilder::<Int32Type>::new();
    let mut scores = Vec::with_capacity(rows);
    let mut created = Vec::with_capacity(rows);
    let mut tag_offsets = vec![0i32];
    let mut tag_values: Vec<Option<String>> = Vec::new();
    let mut tag_valid = Vec::with_capacity(rows);
    let mut msg_offsets = vec![0i32];
    let mut roles_col: Vec<&str> = Vec::new();
    let mut contents: Vec<Option<String>> = Vec::new();
    let mut msg_valid = Vec::with_capacity(rows);
    let mut authors: Vec<Option<String>> = Vec::with_capacity(rows);
    let mut sources: Vec<Option<String>> = Vec::with_capacity(rows);
    let mut meta_valid = Vec::with_capacity(rows);
    let mut prev_lang: Option<&str> = None;

    for i in 0..rows {
        let n = rng.next() % 1_000_000;
        let dup = i % 10 == 9;
        ids.push(i as i64);
        scores.push(if rng.below(17) == 0 {
            None
        } else {
            Some((rng.next() % 10_000) as f64 / 100.0)
        });
        created.push(Some(1_700_000_000_000_000 + (i as i64) * 1_000_003));
        if dup {
            // Repeat every string of the previous row.
            texts.push(texts[i - 1].clone());
            match prev_lang {
                Some(l) => lang.append_value(l),
                None => lang.append_null(),
            }
            let (a, b) = (tag_offsets[i - 1] as usize, tag_offsets[i] as usize);
            tag_values.extend_from_within(a..b);
            tag_offsets.push(tag_values.len() as i32);
            tag_valid.push(tag_valid[i - 1]);
            let (a, b) = (msg_offsets[i - 1] as usize, msg_offsets[i] as usize);
            roles_col.extend_from_within(a..b);
            contents.extend_from_within(a..b);
            msg_offsets.push(roles_col.len() as i32);
            msg_valid.push(msg_valid[i - 1]);
            authors.push(authors[i - 1].clone());
            sources.push(sources[i - 1].clone());
            meta_valid.push(meta_valid[i - 1]);
            continue;
        }
        texts.push(match rng.below(8) {
            0 => None,
            1 => Some(format!("plain row {i} with nothing to hide")),
            2 => Some(format!("身份证号 {}，请核对。", cn_resident_id(n))),
            3 => Some(format!("card {} exp 12/30", card_number(n))),
            4 => Some(format!("call {} after six", cn_mobile(n))),
            _ => Some(format!(
                "row {i}: write to user{n}@example.com or 电话{}",
                cn_mobile(n + 1)
            )),
        });
        let l = (rng.below(5) as usize).checked_sub(1).map(|k| langs[k]);
        match l {
            Some(l) => lang.append_value(l),
            None => lang.append_null(),
        }
        prev_lang = l;
        let ntags = rng.below(4);
        tag_valid.push(ntags != 3);
        if ntags != 3 {
            for t in 0..ntags {
                tag_values.push(match t {
                    0 => Some(format!("topic{}", n % 7)),
                    1 => Some(format!("owner:tag{n}@example.org")),
                    _ => None,
                });
            }
        }
        tag_offsets.push(tag_values.len() as i32);
        let nmsg = rng.below(4);
        msg_valid.push(nmsg != 3);
        if nmsg != 3 {
            for m in 0..nmsg {
                roles_col.push(roles[m as usize % 3]);
                contents.push(match m {
                    0 => Some(format!("my id is {} thanks", cn_resident_id(n + 7))),
                    1 => Some(format!("noted, mail me at m{n}@example.com")),
                    _ => None,
                });
            }
        }
        msg_offsets.push(roles_col.len() as i32);
        let has_meta = rng.below(9) != 0;
        meta_valid.push(has_meta);
        authors.push(has_meta.then(|| format!("Author {n} <author{n}@example.com>")));
        sources.push(if has_meta && n.is_multiple_of(3) {
            Some(format!("pay {}", card_number(n + 3)))
        } else {
            None
        });
    }

    let schema = sample_schema();
    let field_type = |name: &str| schema.field_with_name(name).unwrap().data_type().clone();
    let DataType::List(tag_field) = field_type("tags") else {
        unreachable!()
    };
    let DataType::List(msg_field) = field_type("messages") else {
        unreachable!()
    };
    let DataType::Struct(msg_fields) = msg_field.data_type().clone() else {
        unreachable!()
    };
    let DataType::Struct(meta_fields) = field_type("meta") else {
        unreachable!()
    };
    let tags = ListArray::new(
        tag_field,
        OffsetBuffer::new(tag_offsets.into()),
        Arc::new(StringArray::from(tag_values)),
        Some(NullBuffer::from(tag_valid)),
    );
    let msgs = StructArray::new(
        msg_fields,
        vec![
            Arc::new(StringArray::from(roles_col)) as ArrayRef,
            Arc::new(StringArray::from(contents)),
        ],
        None,
    );
    let messages = ListArray::new(
        msg_field,
        OffsetBuffer::new(msg_offsets.into()),
        Arc::new(msgs),
        Some(NullBuffer::from(msg_valid)),
    );
    let meta = StructArray::new(
        meta_fields,
        vec![
            Arc::new(StringArray::from(authors)) as ArrayRef,
            Arc::new(StringArray::from(sources)),
        ],
        Some(NullBuffer::from(meta_valid)),
    );
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids)),
        Arc::new(StringArray::from(texts)),
        Arc::new(lang.finish()),
        Arc::new(Float64Array::from(scores)),
        Arc::new(TimestampMicrosecondArray::from(created).with_timezone("UTC")),
        Arc::new(tags),
        Arc::new(messages),
        Arc::new(meta),
    ];
    RecordBatch::try_new(schema, columns).expect("sample batch matches its schema")
}

/// Two rows over the less common string containers, with nulls at every level:
/// `id: int64`, `m: map<utf8, utf8>`, `mi: map<int64, utf8>`, `large: large_utf8`,
/// `view: utf8_view`, `fixed: fixed_size_list<utf8, 2>`, `ll: large_list<large_utf8>`.
pub fn exotic_batch() -> RecordBatch {
    // map<utf8, utf8>
    let mut m = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    m.keys().append_value("email");
    m.values().append_value("a@x.io");
    m.keys().append_value("name");
    m.values().append_null();
    m.append(true).expect("map entry");
    m.append(false).expect("map entry");
    let map = m.finish();
    // map<int64, utf8>
    let mut mi = MapBuilder::new(
        None,
        arrow_array::builder::Int64Builder::new(),
        StringBuilder::new(),
    );
    mi.keys().append_value(7);
    mi.values().append_value("b@x.io");
    mi.append(true).expect("map entry");
    mi.append(true).expect("map entry");
    let mapi = mi.finish();
    let large = LargeStringArray::from(vec![Some("c@x.io"), None]);
    let view = StringViewArray::from(vec![None, Some("a long string value d@x.io !!")]);
    let mut fl = FixedSizeListBuilder::new(StringBuilder::new(), 2);
    fl.values().append_value("e@x.io");
    fl.values().append_value("ok");
    fl.append(true);
    fl.values().append_null();
    fl.values().append_null();
    fl.append(false);
    let fixed = fl.finish();
    let mut ll = LargeListBuilder::new(LargeStringBuilder::new());
    ll.append_null();
    ll.values().append_value("f@x.io");
    ll.append(true);
    let llist = ll.finish();
    let ids = Int64Array::from(vec![1, 2]);
    let cols: Vec<ArrayRef> = vec![
        Arc::new(ids),
        Arc::new(map),
        Arc::new(mapi),
        Arc::new(large),
        Arc::new(view),
        Arc::new(fixed),
        Arc::new(llist),
    ];
    let names = ["id", "m", "mi", "large", "view", "fixed", "ll"];
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .zip(&cols)
            .map(|(n, c)| Field::new(*n, c.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    RecordBatch::try_new(schema, cols).expect("exotic batch matches its schema")
}

/// Five rows of maps keyed by personal data, with nulls, empty maps and rows without any:
/// `id: int64`, `counts: map<utf8, int64>`, `attrs: map<utf8, utf8>`,
/// `dict: map<dictionary<int32, utf8>, utf8>` and `sorted: map<utf8, utf8>` (declared
/// `keys_sorted`, and sorted in every row). Row 3 has no personal data anywhere.
pub fn map_batch() -> RecordBatch {
    use arrow_array::builder::{Int64Builder, MapFieldNames};
    use arrow_array::{Array, MapArray};

    let names = || {
        Some(MapFieldNames {
            entry: "entries".into(),
            key: "key".into(),
            value: "value".into(),
        })
    };
    let mut counts = MapBuilder::new(names(), StringBuilder::new(), Int64Builder::new());
    let mut attrs = MapBuilder::new(names(), StringBuilder::new(), StringBuilder::new());
    let mut dict = MapBuilder::new(
        names(),
        StringDictionaryBuilder::<Int32Type>::new(),
        StringBuilder::new(),
    );
    let mut sorted = MapBuilder::new(names(), StringBuilder::new(), StringBuilder::new());
    type Row<'a> = Option<&'a [(&'a str, Option<&'a str>)]>;
    let counts_rows: [Option<&[(&str, i64)]>; 5] = [
        Some(&[("alice@example.com", 3), ("plain", 1)]),
        None,
        Some(&[]),
        Some(&[("topic", 7), ("lang", 2)]),
        Some(&[("call (415) 555-2671", 2), ("bob@example.org", 5)]),
    ];
    let attrs_rows: [Row<'_>; 5] = [
        Some(&[
            ("carol@example.com", Some("write to dave@example.net")),
            ("lang", Some("en")),
        ]),
        Some(&[("note", None), ("erin@example.com", None)]),
        None,
        Some(&[("k", Some("plain")), ("other", None)]),
        Some(&[
            ("(415) 555-2671", Some("the office")),
            ("role", Some("admin")),
        ]),
    ];
    let dict_rows: [Row<'_>; 5] = [
        Some(&[("frank@example.com", Some("a")), ("plain", Some("b"))]),
        Some(&[("frank@example.com", Some("again"))]),
        None,
        Some(&[("plain", Some("c"))]),
        Some(&[]),
    ];
    // Each row in UTF-8 byte order; '<' (0x3C) sorts before letters, so a `<TYPE_…>`
    // pseudonym moves its entry to the front.
    let sorted_rows: [Row<'_>; 5] = [
        Some(&[
            ("a-team", Some("x")),
            ("grace@example.com", Some("y")),
            ("zeta", Some("z")),
        ]),
        Some(&[("alpha", Some("1")), ("beta", Some("heidi@example.com"))]),
        None,
        Some(&[("k1", Some("v1")), ("k2", Some("v2"))]),
        Some(&[("ivan@example.com", Some("v")), ("judy@example.com", None)]),
    ];
    for r in counts_rows {
        for (k, v) in r.unwrap_or_default() {
            counts.keys().append_value(k);
            counts.values().append_value(*v);
        }
        counts.append(r.is_some()).expect("map entry");
    }
    for (b, rows) in [(&mut attrs, attrs_rows), (&mut sorted, sorted_rows)] {
        for r in rows {
            for (k, v) in r.unwrap_or_default() {
                b.keys().append_value(k);
                b.values().append_option(*v);
            }
            b.append(r.is_some()).expect("map entry");
        }
    }
    for r in dict_rows {
        for (k, v) in r.unwrap_or_default() {
            dict.keys().append_value(k);
            dict.values().append_option(*v);
        }
        dict.append(r.is_some()).expect("map entry");
    }
    let (field, offsets, entries, nulls, _) = sorted.finish().into_parts();
    let sorted = MapArray::try_new(field, offsets, entries, nulls, true).expect("sorted map");
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![0, 1, 2, 3, 4])),
        Arc::new(counts.finish()),
        Arc::new(attrs.finish()),
        Arc::new(dict.finish()),
        Arc::new(sorted),
    ];
    let schema = Arc::new(Schema::new(
        ["id", "counts", "attrs", "dict", "sorted"]
            .iter()
            .zip(&cols)
            .map(|(n, c)| Field::new(*n, c.data_type().clone(), *n != "id"))
            .collect::<Vec<_>>(),
    ));
    debug_assert!(cols.iter().all(|c| c.len() == 5));
    RecordBatch::try_new(schema, cols).expect("map batch matches its schema")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_are_valid() {
        assert_eq!(cn_resident_id(0).len(), 18);
        // The standard example: 11010519491231002X.
        assert_eq!(cn_check("11010519491231002"), 'X');
        let digits: Vec<u8> = card_number(42)
            .bytes()
            .filter(u8::is_ascii_digit)
            .map(|b| b - b'0')
            .collect();
        assert!(crate::validate::luhn(&digits));
        assert_eq!(sample_batch(50, 1), sample_batch(50, 1));
        assert_eq!(sample_batch(50, 1).num_rows(), 50);
    }
}
