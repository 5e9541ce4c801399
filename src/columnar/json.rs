//! JSON objects ⇄ Arrow rows.
//!
//! # Parquet → JSONL (one object per row)
//!
//! Each row becomes one JSON object whose keys are the column names in schema order; a
//! null column is written as `null` (never omitted).
//!
//! | Arrow type | JSON |
//! |---|---|
//! | null, or a null value of any type | `null` |
//! | Boolean | `true` / `false` |
//! | Int8…Int64, UInt8…UInt64 | number (exact) |
//! | Float16, Float32, Float64 | number (shortest round-trip form); NaN and ±∞ → `null` |
//! | Decimal32/64/128/256 | string with the exact decimal, e.g. `"12.30"` |
//! | Utf8, LargeUtf8, Utf8View | string |
//! | Binary, LargeBinary, BinaryView, FixedSizeBinary | string, standard base64 with padding |
//! | Timestamp with a time zone | RFC 3339 string in UTC: `"2024-05-01T12:00:00.000000Z"` (fraction digits by unit: s 0, ms 3, µs 6, ns 9) |
//! | Timestamp without a time zone | the same without the `Z` (local, unspecified zone) |
//! | Date32, Date64 | `"YYYY-MM-DD"` |
//! | Time32, Time64 | `"HH:MM:SS[.fraction]"` |
//! | Duration | number of units |
//! | Interval | year-month: number of months; day-time: `{"days","milliseconds"}`; month-day-nano: `{"months","days","nanoseconds"}` |
//! | List, LargeList, FixedSizeList, ListView | array |
//! | Struct | object, fields in order |
//! | Map with string keys (a string type or a dictionary of one) | object (entries in order) |
//! | Map with other keys | array of `[key, value]` pairs |
//! | Dictionary | its value, as the value type |
//! | Union | the value of the selected member |
//!
//! Run-end-encoded arrays are not supported (an error); the Parquet reader never produces
//! them.
//!
//! # JSONL → Parquet (schema inference)
//!
//! The schema is inferred from a set of records (for example the first batch of a shard):
//! a column per top-level key, in order of first appearance (serde_json hands object keys
//! over sorted by name), every field nullable.
//!
//! | JSON values seen for a key | Arrow type |
//! |---|---|
//! | only booleans | Boolean |
//! | only integers in the `i64` range | Int64 |
//! | numbers, at least one not an integer | Float64 |
//! | only strings | Utf8 |
//! | only arrays | List of the type inferred from all their elements (`List<Utf8>` when all are empty) |
//! | only objects | Struct of the keys seen, inferred recursively (Utf8 when all are `{}`) |
//! | only `null` (or absent) | Utf8 (all null) |
//! | anything else (mixed kinds, integers beyond `i64`) | Utf8: strings as they are, other values as their JSON text |
//!
//! `null` and absent keys are nulls and never change the inferred type.
//!
//! Later records are encoded with that schema: an absent key or `null` becomes null, an
//! integer fits a Float64 column, anything fits a Utf8 column (as JSON text unless it is a
//! string). A record that does not fit (an unknown key, or a kind the column cannot hold)
//! is refused as a whole with an error naming the record and the path, never the value:
//! check with [`fits`] first, and start a new shard (a new schema) or reject the record.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Float64Builder, Int64Builder, StringBuilder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch, StructArray};
use arrow_buffer::{ArrowNativeType, NullBufferBuilder, OffsetBuffer};
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Fields, IntervalUnit, Schema, TimeUnit};
use base64::Engine as _;
use serde_json::Value;

// ---------------------------------------------------------------- Arrow → JSON

/// Appends row `row` of `batch` to `out` as one JSON object (no trailing newline).
pub fn write_row(batch: &RecordBatch, row: usize, out: &mut Vec<u8>) -> Result<(), ArrowError> {
    out.push(b'{');
    for (i, (field, col)) in batch
        .schema_ref()
        .fields()
        .iter()
        .zip(batch.columns())
        .enumerate()
    {
        if i > 0 {
            out.push(b',');
        }
        write_str(field.name(), out);
        out.push(b':');
        write_value(col.as_ref(), row, out)?;
    }
    out.push(b'}');
    Ok(())
}

/// Appends every row of `batch` to `out` as JSON Lines (`\n` after each object).
pub fn write_jsonl(batch: &RecordBatch, out: &mut Vec<u8>) -> Result<(), ArrowError> {
    for row in 0..batch.num_rows() {
        write_row(batch, row, out)?;
        out.push(b'\n');
    }
    Ok(())
}

/// Row `row` of `batch` as a JSON value (the object [`write_row`] writes; note that a
/// `serde_json` map orders keys by name unless its `preserve_order` feature is on).
pub fn row_to_value(batch: &RecordBatch, row: usize) -> Result<Value, ArrowError> {
    let mut buf = Vec::new();
    write_row(batch, row, &mut buf)?;
    serde_json::from_slice(&buf).map_err(|e| ArrowError::JsonError(e.to_string()))
}

fn write_str(s: &str, out: &mut Vec<u8>) {
    crate::json::write_json_string(s, out);
}

fn write_display(v: impl std::fmt::Display, out: &mut Vec<u8>) {
    write!(out, "{v}").expect("writing to a Vec cannot fail");
}

fn write_f64(v: f64, out: &mut Vec<u8>) {
    if v.is_finite() {
        serde_json::to_writer(&mut *out, &v).expect("writing to a Vec cannot fail");
    } else {
        out.extend_from_slice(b"null");
    }
}

fn write_f32(v: f32, out: &mut Vec<u8>) {
    if v.is_finite() {
        serde_json::to_writer(&mut *out, &v).expect("writing to a Vec cannot fail");
    } else {
        out.extend_from_slice(b"null");
    }
}

fn write_base64(b: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    let s = base64::engine::general_purpose::STANDARD.encode(b);
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn unit_scale(unit: TimeUnit) -> (i64, usize) {
    match unit {
        TimeUnit::Second => (1, 0),
        TimeUnit::Millisecond => (1_000, 3),
        TimeUnit::Microsecond => (1_000_000, 6),
        TimeUnit::Nanosecond => (1_000_000_000, 9),
    }
}

fn fmt_time_of_day(secs: i64, frac: i64, digits: usize, s: &mut String) {
    let _ = write!(
        s,
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
    if digits > 0 {
        let _ = write!(s, ".{frac:0digits$}");
    }
}

fn fmt_date(days: i64, s: &mut String) {
    let (y, m, d) = civil_from_days(days);
    let _ = write!(s, "{y:04}-{m:02}-{d:02}");
}

/// RFC 3339 (with `Z` when `utc`) for `v` units since the epoch.
fn fmt_timestamp(v: i64, unit: TimeUnit, utc: bool) -> String {
    let (scale, digits) = unit_scale(unit);
    let secs = v.div_euclid(scale);
    let frac = v.rem_euclid(scale);
    let mut s = String::with_capacity(32);
    fmt_date(secs.div_euclid(86_400), &mut s);
    s.push('T');
    fmt_time_of_day(secs.rem_euclid(86_400), frac, digits, &mut s);
    if utc {
        s.push('Z');
    }
    s
}

fn fmt_time(v: i64, unit: TimeUnit) -> String {
    let (scale, digits) = unit_scale(unit);
    let mut s = String::with_capacity(18);
    fmt_time_of_day(
        v.div_euclid(scale).rem_euclid(86_400),
        v.rem_euclid(scale),
        digits,
        &mut s,
    );
    s
}

fn write_list(
    child: &dyn Array,
    range: std::ops::Range<usize>,
    out: &mut Vec<u8>,
) -> Result<(), ArrowError> {
    out.push(b'[');
    for (n, j) in range.enumerate() {
        if n > 0 {
            out.push(b',');
        }
        write_value(child, j, out)?;
    }
    out.push(b']');
    Ok(())
}

fn string_at(a: &dyn Array, i: usize) -> Option<&str> {
    match a.data_type() {
        DataType::Utf8 => Some(a.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => Some(a.as_string::<i64>().value(i)),
        DataType::Utf8View => Some(a.as_string_view().value(i)),
        _ => None,
    }
}

/// The value index of slot `i` of dictionary `a` (`normalized_keys` would convert every
/// key per call).
fn dict_index(a: &dyn Array, i: usize) -> Result<usize, ArrowError> {
    use DataType as D;
    let D::Dictionary(kt, _) = a.data_type() else {
        unreachable!("dict_index of a dictionary")
    };
    macro_rules! key {
        ($t:ty) => {
            a.as_dictionary::<$t>().keys().value(i).as_usize()
        };
    }
    Ok(match kt.as_ref() {
        D::Int8 => key!(Int8Type),
        D::Int16 => key!(Int16Type),
        D::Int32 => key!(Int32Type),
        D::Int64 => key!(Int64Type),
        D::UInt8 => key!(UInt8Type),
        D::UInt16 => key!(UInt16Type),
        D::UInt32 => key!(UInt32Type),
        D::UInt64 => key!(UInt64Type),
        other => {
            return Err(ArrowError::InvalidArgumentError(format!(
                "dictionary key type {other}"
            )))
        }
    })
}

/// The text of key `j` of a map with string keys; `""` for a null slot or a dictionary
/// slot whose value is null (an object key cannot be `null`; the scrub walk names it `""`
/// too and never visits it, so nothing behind it may be written).
fn key_text(keys: &dyn Array, j: usize) -> Result<&str, ArrowError> {
    if keys.is_null(j) {
        return Ok("");
    }
    if !matches!(keys.data_type(), DataType::Dictionary(..)) {
        return Ok(string_at(keys, j).unwrap_or_default());
    }
    let k = dict_index(keys, j)?;
    let values = keys.as_any_dictionary().values();
    Ok(match values.is_valid(k) {
        true => string_at(values.as_ref(), k).unwrap_or_default(),
        false => "",
    })
}

/// Writes element `i` of `a` as JSON.
fn write_value(a: &dyn Array, i: usize, out: &mut Vec<u8>) -> Result<(), ArrowError> {
    use DataType as D;
    if matches!(a.data_type(), D::Null) || a.is_null(i) {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    macro_rules! int {
        ($t:ty) => {
            write_display(a.as_primitive::<$t>().value(i), out)
        };
    }
    macro_rules! quoted {
        ($s:expr) => {
            write_str(&$s, out)
        };
    }
    match a.data_type() {
        D::Null => unreachable!(),
        D::Boolean => out.extend_from_slice(if a.as_boolean().value(i) {
            b"true"
        } else {
            b"false"
        }),
        D::Int8 => int!(Int8Type),
        D::Int16 => int!(Int16Type),
        D::Int32 => int!(Int32Type),
        D::Int64 => int!(Int64Type),
        D::UInt8 => int!(UInt8Type),
        D::UInt16 => int!(UInt16Type),
        D::UInt32 => int!(UInt32Type),
        D::UInt64 => int!(UInt64Type),
        D::Float16 => write_f32(a.as_primitive::<Float16Type>().value(i).to_f32(), out),
        D::Float32 => write_f32(a.as_primitive::<Float32Type>().value(i), out),
        D::Float64 => write_f64(a.as_primitive::<Float64Type>().value(i), out),
        D::Decimal32(..) => quoted!(a.as_primitive::<Decimal32Type>().value_as_string(i)),
        D::Decimal64(..) => quoted!(a.as_primitive::<Decimal64Type>().value_as_string(i)),
        D::Decimal128(..) => quoted!(a.as_primitive::<Decimal128Type>().value_as_string(i)),
        D::Decimal256(..) => quoted!(a.as_primitive::<Decimal256Type>().value_as_string(i)),
        D::Utf8 | D::LargeUtf8 | D::Utf8View => {
            write_str(string_at(a, i).expect("string type"), out)
        }
        D::Binary => write_base64(a.as_binary::<i32>().value(i), out),
        D::LargeBinary => write_base64(a.as_binary::<i64>().value(i), out),
        D::BinaryView => write_base64(a.as_binary_view().value(i), out),
        D::FixedSizeBinary(_) => write_base64(a.as_fixed_size_binary().value(i), out),
        D::Timestamp(unit, tz) => {
            let v = match unit {
                TimeUnit::Second => a.as_primitive::<TimestampSecondType>().value(i),
                TimeUnit::Millisecond => a.as_primitive::<TimestampMillisecondType>().value(i),
                TimeUnit::Microsecond => a.as_primitive::<TimestampMicrosecondType>().value(i),
                TimeUnit::Nanosecond => a.as_primitive::<TimestampNanosecondType>().value(i),
            };
            quoted!(fmt_timestamp(v, *unit, tz.is_some()))
        }
        D::Date32 => {
            let mut s = String::with_capacity(10);
            fmt_date(i64::from(a.as_primitive::<Date32Type>().value(i)), &mut s);
            quoted!(s)
        }
        D::Date64 => {
            let mut s = String::with_capacity(10);
            let ms = a.as_primitive::<Date64Type>().value(i);
            fmt_date(ms.div_euclid(86_400_000), &mut s);
            quoted!(s)
        }
        D::Time32(TimeUnit::Second) => quoted!(fmt_time(
            i64::from(a.as_primitive::<Time32SecondType>().value(i)),
            TimeUnit::Second
        )),
        D::Time32(_) => quoted!(fmt_time(
            i64::from(a.as_primitive::<Time32MillisecondType>().value(i)),
            TimeUnit::Millisecond
        )),
        D::Time64(TimeUnit::Nanosecond) => quoted!(fmt_time(
            a.as_primitive::<Time64NanosecondType>().value(i),
            TimeUnit::Nanosecond
        )),
        D::Time64(_) => quoted!(fmt_time(
            a.as_primitive::<Time64MicrosecondType>().value(i),
            TimeUnit::Microsecond
        )),
        D::Duration(TimeUnit::Second) => int!(DurationSecondType),
        D::Duration(TimeUnit::Millisecond) => int!(DurationMillisecondType),
        D::Duration(TimeUnit::Microsecond) => int!(DurationMicrosecondType),
        D::Duration(TimeUnit::Nanosecond) => int!(DurationNanosecondType),
        D::Interval(IntervalUnit::YearMonth) => int!(IntervalYearMonthType),
        D::Interval(IntervalUnit::DayTime) => {
            let v = a.as_primitive::<IntervalDayTimeType>().value(i);
            write_display(
                format_args!(r#"{{"days":{},"milliseconds":{}}}"#, v.days, v.milliseconds),
                out,
            );
        }
        D::Interval(IntervalUnit::MonthDayNano) => {
            let v = a.as_primitive::<IntervalMonthDayNanoType>().value(i);
            write_display(
                format_args!(
                    r#"{{"months":{},"days":{},"nanoseconds":{}}}"#,
                    v.months, v.days, v.nanoseconds
                ),
                out,
            );
        }
        D::List(_) => {
            let l = a.as_list::<i32>();
            let o = l.value_offsets();
            write_list(l.values().as_ref(), o[i] as usize..o[i + 1] as usize, out)?;
        }
        D::LargeList(_) => {
            let l = a.as_list::<i64>();
            let o = l.value_offsets();
            write_list(l.values().as_ref(), o[i] as usize..o[i + 1] as usize, out)?;
        }
        D::ListView(_) => {
            let l = a.as_list_view::<i32>();
            let (o, n) = (l.value_offsets()[i] as usize, l.value_sizes()[i] as usize);
            write_list(l.values().as_ref(), o..o + n, out)?;
        }
        D::LargeListView(_) => {
            let l = a.as_list_view::<i64>();
            let (o, n) = (l.value_offsets()[i] as usize, l.value_sizes()[i] as usize);
            write_list(l.values().as_ref(), o..o + n, out)?;
        }
        D::FixedSizeList(..) => {
            let l = a.as_fixed_size_list();
            let start = l.value_offset_at(i);
            write_list(
                l.values().as_ref(),
                start..start + l.value_length() as usize,
                out,
            )?;
        }
        D::Struct(fields) => {
            let s = a.as_struct();
            out.push(b'{');
            for (n, (f, c)) in fields.iter().zip(s.columns()).enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                write_str(f.name(), out);
                out.push(b':');
                write_value(c.as_ref(), i, out)?;
            }
            out.push(b'}');
        }
        D::Map(..) => {
            let m = a.as_map();
            let o = m.value_offsets();
            let (keys, values) = (m.keys().as_ref(), m.values().as_ref());
            let (start, end) = (o[i] as usize, o[i + 1] as usize);
            // The same test as the scrub walk's, which visits these keys as object keys.
            if super::scrub::is_string(keys.data_type()) {
                out.push(b'{');
                for j in start..end {
                    if j > start {
                        out.push(b',');
                    }
                    write_str(key_text(keys, j)?, out);
                    out.push(b':');
                    write_value(values, j, out)?;
                }
                out.push(b'}');
            } else {
                out.push(b'[');
                for j in start..end {
                    if j > start {
                        out.push(b',');
                    }
                    out.push(b'[');
                    write_value(keys, j, out)?;
                    out.push(b',');
                    write_value(values, j, out)?;
                    out.push(b']');
                }
                out.push(b']');
            }
        }
        D::Dictionary(..) => {
            let k = dict_index(a, i)?;
            write_value(a.as_any_dictionary().values().as_ref(), k, out)?;
        }
        D::Union(..) => {
            let u = a.as_union();
            let t = u.type_id(i);
            write_value(u.child(t).as_ref(), u.value_offset(i), out)?;
        }
        other => {
            return Err(ArrowError::NotYetImplemented(format!(
                "JSON output of {other} values"
            )))
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- JSON → Arrow

/// The inference lattice.
#[derive(Clone, Debug, PartialEq)]
enum Ty {
    Null,
    Bool,
    Int,
    Float,
    Str,
    List(Box<Ty>),
    Struct(Vec<(String, Ty)>),
    Mixed,
}

impl Ty {
    fn of(v: &Value) -> Ty {
        match v {
            Value::Null => Ty::Null,
            Value::Bool(_) => Ty::Bool,
            Value::Number(n) if n.is_i64() => Ty::Int,
            Value::Number(n) if n.is_f64() => Ty::Float,
            Value::Number(_) => Ty::Mixed, // a u64 beyond i64: keep it exact, as text
            Value::String(_) => Ty::Str,
            Value::Array(a) => {
                Ty::List(Box::new(a.iter().fold(Ty::Null, |t, v| t.merge(Ty::of(v)))))
            }
            Value::Object(o) => Ty::Struct(o.iter().map(|(k, v)| (k.clone(), Ty::of(v))).collect()),
        }
    }

    fn merge(self, other: Ty) -> Ty {
        match (self, other) {
            (Ty::Null, t) | (t, Ty::Null) => t,
            (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int) => Ty::Float,
            (Ty::List(a), Ty::List(b)) => Ty::List(Box::new(a.merge(*b))),
            (Ty::Struct(mut a), Ty::Struct(b)) => {
                for (k, t) in b {
                    match a.iter_mut().find(|(n, _)| *n == k) {
                        Some((_, old)) => *old = std::mem::replace(old, Ty::Null).merge(t),
                        None => a.push((k, t)),
                    }
                }
                Ty::Struct(a)
            }
            (a, b) if a == b => a,
            _ => Ty::Mixed,
        }
    }

    fn data_type(&self) -> DataType {
        match self {
            Ty::Bool => DataType::Boolean,
            Ty::Int => DataType::Int64,
            Ty::Float => DataType::Float64,
            Ty::Null | Ty::Str | Ty::Mixed => DataType::Utf8,
            Ty::List(t) => DataType::List(Arc::new(Field::new_list_field(t.data_type(), true))),
            Ty::Struct(fs) if fs.is_empty() => DataType::Utf8,
            Ty::Struct(fs) => DataType::Struct(fields(fs)),
        }
    }
}

fn fields(fs: &[(String, Ty)]) -> Fields {
    fs.iter()
        .map(|(k, t)| Field::new(k, t.data_type(), true))
        .collect()
}

/// Accumulates records and infers a schema; see the [module docs](self) for the rules.
#[derive(Clone, Debug, Default)]
pub struct SchemaInference {
    columns: Vec<(String, Ty)>,
}

impl SchemaInference {
    /// No records yet.
    pub fn new() -> SchemaInference {
        SchemaInference::default()
    }

    /// Takes `record` into account; a record that is not an object is ignored (it cannot be
    /// a row).
    pub fn add(&mut self, record: &Value) {
        if let Value::Object(_) = record {
            let cols = std::mem::take(&mut self.columns);
            if let Ty::Struct(c) = Ty::Struct(cols).merge(Ty::of(record)) {
                self.columns = c;
            }
        }
    }

    /// The inferred schema (no metadata).
    pub fn schema(&self) -> Schema {
        Schema::new(fields(&self.columns))
    }
}

/// The schema inferred from `records` (see the [module docs](self)).
pub fn infer_schema<'a>(records: impl IntoIterator<Item = &'a Value>) -> Schema {
    let mut inf = SchemaInference::new();
    for r in records {
        inf.add(r);
    }
    inf.schema()
}

/// `Ok` when `record` can be encoded with `schema` without losing anything, otherwise the
/// path (`meta.author`, `tags[2]`) of the first value that does not fit and why.
pub fn fits(record: &Value, schema: &Schema) -> Result<(), String> {
    let Value::Object(o) = record else {
        return Err("record: not a JSON object".to_string());
    };
    let mut path = String::new();
    fits_object(o, schema.fields(), &mut path)
}

fn fits_object(
    o: &serde_json::Map<String, Value>,
    fields: &Fields,
    path: &mut String,
) -> Result<(), String> {
    for (k, v) in o {
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(k);
        match fields.find(k) {
            None if v.is_null() => {}
            None => return Err(format!("`{path}`: not in the schema")),
            Some((_, f)) => fits_value(v, f.data_type(), path)?,
        }
        path.truncate(len);
    }
    Ok(())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn fits_value(v: &Value, t: &DataType, path: &mut String) -> Result<(), String> {
    let ok = match (t, v) {
        (_, Value::Null) | (DataType::Utf8, _) => true,
        (DataType::Boolean, Value::Bool(_)) => true,
        (DataType::Int64, Value::Number(n)) => n.is_i64(),
        (DataType::Float64, Value::Number(_)) => true,
        (DataType::List(f), Value::Array(a)) => {
            for (i, v) in a.iter().enumerate() {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                fits_value(v, f.data_type(), path)?;
                path.truncate(len);
            }
            true
        }
        (DataType::Struct(fs), Value::Object(o)) => {
            fits_object(o, fs, path)?;
            true
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("`{path}`: {} does not fit {t}", kind(v)))
    }
}

/// Encodes `records` (JSON objects) as a batch of `schema`, which must consist of the types
/// inference produces (Boolean, Int64, Float64, Utf8, List, Struct). Fails, naming the
/// record and the path, when a record does not [fit](fits); nothing is encoded then.
pub fn records_to_batch(
    records: &[Value],
    schema: &Arc<Schema>,
) -> Result<RecordBatch, ArrowError> {
    for (i, r) in records.iter().enumerate() {
        fits(r, schema).map_err(|e| ArrowError::JsonError(format!("record {i}: {e}")))?;
    }
    let mut cols = schema
        .fields()
        .iter()
        .map(|f| Col::new(f.data_type(), records.len()))
        .collect::<Result<Vec<_>, _>>()?;
    for r in records {
        let o = r.as_object().expect("checked by fits");
        for (f, c) in schema.fields().iter().zip(&mut cols) {
            c.append(o.get(f.name()));
        }
    }
    let columns: Vec<ArrayRef> = cols
        .into_iter()
        .map(Col::finish)
        .collect::<Result<_, _>>()?;
    RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(records.len())),
    )
}

enum Col {
    Bool(BooleanBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Str(StringBuilder),
    List {
        field: FieldRef,
        offsets: Vec<i32>,
        nulls: NullBufferBuilder,
        child: Box<Col>,
    },
    Struct {
        fields: Fields,
        children: Vec<Col>,
        nulls: NullBufferBuilder,
    },
}

impl Col {
    fn new(t: &DataType, cap: usize) -> Result<Col, ArrowError> {
        Ok(match t {
            DataType::Boolean => Col::Bool(BooleanBuilder::with_capacity(cap)),
            DataType::Int64 => Col::Int(Int64Builder::with_capacity(cap)),
            DataType::Float64 => Col::Float(Float64Builder::with_capacity(cap)),
            DataType::Utf8 => Col::Str(StringBuilder::with_capacity(cap, cap * 16)),
            DataType::List(f) => Col::List {
                field: f.clone(),
                offsets: vec![0],
                nulls: NullBufferBuilder::new(cap),
                child: Box::new(Col::new(f.data_type(), cap)?),
            },
            DataType::Struct(fs) => Col::Struct {
                fields: fs.clone(),
                children: fs
                    .iter()
                    .map(|f| Col::new(f.data_type(), cap))
                    .collect::<Result<_, _>>()?,
                nulls: NullBufferBuilder::new(cap),
            },
            other => {
                return Err(ArrowError::NotYetImplemented(format!(
                    "JSON input into {other} columns"
                )))
            }
        })
    }

    /// Appends `v` (absent or null: a null); `v` has been checked by [`fits`].
    fn append(&mut self, v: Option<&Value>) {
        let v = v.filter(|v| !v.is_null());
        match self {
            Col::Bool(b) => b.append_option(v.and_then(Value::as_bool)),
            Col::Int(b) => b.append_option(v.and_then(Value::as_i64)),
            Col::Float(b) => b.append_option(v.and_then(Value::as_f64)),
            Col::Str(b) => match v {
                None => b.append_null(),
                Some(Value::String(s)) => b.append_value(s),
                Some(other) => b.append_value(other.to_string()),
            },
            Col::List {
                offsets,
                nulls,
                child,
                ..
            } => {
                match v.and_then(Value::as_array) {
                    Some(a) => {
                        for e in a {
                            child.append(Some(e));
                        }
                        nulls.append_non_null();
                    }
                    None => nulls.append_null(),
                }
                offsets.push(child.len() as i32);
            }
            Col::Struct {
                fields,
                children,
                nulls,
            } => {
                let o = v.and_then(Value::as_object);
                for (f, c) in fields.iter().zip(children) {
                    c.append(o.and_then(|o| o.get(f.name())));
                }
                nulls.append(o.is_some());
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Col::Bool(b) => b.len(),
            Col::Int(b) => b.len(),
            Col::Float(b) => b.len(),
            Col::Str(b) => b.len(),
            Col::List { offsets, .. } => offsets.len() - 1,
            Col::Struct { nulls, .. } => nulls.len(),
        }
    }

    fn finish(self) -> Result<ArrayRef, ArrowError> {
        Ok(match self {
            Col::Bool(mut b) => Arc::new(b.finish()),
            Col::Int(mut b) => Arc::new(b.finish()),
            Col::Float(mut b) => Arc::new(b.finish()),
            Col::Str(mut b) => Arc::new(b.finish()),
            Col::List {
                field,
                offsets,
                mut nulls,
                child,
            } => Arc::new(arrow_array::ListArray::try_new(
                field,
                OffsetBuffer::new(offsets.into()),
                child.finish()?,
                nulls.finish(),
            )?),
            Col::Struct {
                fields,
                children,
                mut nulls,
            } => {
                let len = nulls.len();
                Arc::new(StructArray::try_new_with_length(
                    fields,
                    children
                        .into_iter()
                        .map(Col::finish)
                        .collect::<Result<_, _>>()?,
                    nulls.finish(),
                    len,
                )?)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columnar::scrub::visit_strings;
    use crate::columnar::testdata::sample_batch;
    use crate::select::{PathSeg, Selection};
    use arrow_array::builder::{MapBuilder, StringBuilder};
    use arrow_array::{
        BinaryArray, Decimal128Array, Float64Array, Int32Array, TimestampMillisecondArray,
    };
    use arrow_schema::Schema;
    use serde_json::json;

    fn one_row(cols: Vec<(&str, ArrayRef)>) -> String {
        let schema = Schema::new(
            cols.iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        );
        let batch = RecordBatch::try_new(Arc::new(schema), cols.into_iter().map(|c| c.1).collect())
            .unwrap();
        let mut out = Vec::new();
        write_jsonl(&batch, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn dates_are_proleptic_gregorian() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(
            fmt_timestamp(1_700_000_000_123_456, TimeUnit::Microsecond, true),
            "2023-11-14T22:13:20.123456Z"
        );
        assert_eq!(
            fmt_timestamp(-1, TimeUnit::Second, false),
            "1969-12-31T23:59:59"
        );
        assert_eq!(fmt_time(3_723_000, TimeUnit::Millisecond), "01:02:03.000");
    }

    #[test]
    fn dictionary_map_keys_are_object_keys() {
        use arrow_array::builder::StringDictionaryBuilder;
        use arrow_array::types::UInt8Type;
        let mut m = MapBuilder::new(
            None,
            StringDictionaryBuilder::<UInt8Type>::new(),
            Int32Array::builder(0),
        );
        for (k, v) in [("b", 1), ("a", 2), ("b", 3)] {
            m.keys().append_value(k);
            m.values().append_value(v);
        }
        m.append(true).unwrap();
        m.append(false).unwrap();
        m.append(true).unwrap();
        let line = one_row(vec![("m", Arc::new(m.finish()))]);
        // A dictionary stands for its value: string keys, so an object, as the scrub walk
        // sees it (a key with the map's path, then its value under `Key(key)`).
        assert_eq!(
            line,
            "{\"m\":{\"b\":1,\"a\":2,\"b\":3}}\n{\"m\":null}\n{\"m\":{}}\n"
        );
    }

    #[test]
    fn scalar_mapping() {
        let mut m = MapBuilder::new(None, StringBuilder::new(), Int32Array::builder(0));
        m.keys().append_value("a");
        m.values().append_value(1);
        m.append(true).unwrap();
        let mut mi = MapBuilder::new(None, Int32Array::builder(0), StringBuilder::new());
        mi.keys().append_value(5);
        mi.values().append_null();
        mi.append(true).unwrap();
        let line = one_row(vec![
            ("f", Arc::new(Float64Array::from(vec![f64::NAN]))),
            ("g", Arc::new(Float64Array::from(vec![0.1]))),
            ("b", Arc::new(BinaryArray::from(vec![&b"hi\xff"[..]]))),
            (
                "d",
                Arc::new(
                    Decimal128Array::from(vec![1230])
                        .with_precision_and_scale(6, 2)
                        .unwrap(),
                ),
            ),
            (
                "t",
                Arc::new(TimestampMillisecondArray::from(vec![0]).with_timezone("+08:00")),
            ),
            ("m", Arc::new(m.finish())),
            ("mi", Arc::new(mi.finish())),
            ("n", Arc::new(arrow_array::NullArray::new(1))),
        ]);
        assert_eq!(
            line,
            concat!(
                r#"{"f":null,"g":0.1,"b":"aGn/","d":"12.30","t":"1970-01-01T00:00:00.000Z","#,
                r#""m":{"a":1},"mi":[[5,null]],"n":null}"#,
                "\n"
            )
        );
    }

    #[test]
    fn sample_rows_become_objects_in_column_order() {
        let batch = sample_batch(20, 7);
        let mut out = Vec::new();
        write_jsonl(&batch, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 20);
        for (row, line) in text.lines().enumerate() {
            assert!(
                line.starts_with(&format!("{{\"id\":{row},\"text\":")),
                "{line}"
            );
            let v: Value = serde_json::from_str(line).unwrap();
            assert_eq!(v, row_to_value(&batch, row).unwrap());
            assert!(v["created"].as_str().unwrap().ends_with('Z'));
            assert!(v["lang"].is_null() || v["lang"].is_string());
            if let Some(m) = v["messages"].as_array() {
                assert!(m.iter().all(|m| m["role"].is_string()));
            }
        }
    }

    #[test]
    fn inference_rules() {
        let recs = vec![
            json!({"a": 1, "b": "x", "c": [1, 2], "d": {"e": true}, "m": 1, "z": null}),
            json!({"a": 2.5, "b": null, "c": [], "d": {"f": "y"}, "m": "one", "big": 18446744073709551615u64}),
            json!({"l": [[1], [2, 3]], "o": {}, "s": [{"k": "v"}, {"k": 1}]}),
        ];
        let s = infer_schema(&recs);
        let got: Vec<String> = s
            .fields()
            .iter()
            .map(|f| format!("{}:{}", f.name(), f.data_type()))
            .collect();
        assert_eq!(
            got,
            [
                "a:Float64",
                "b:Utf8",
                "c:List(Int64)",
                "d:Struct(\"e\": Boolean, \"f\": Utf8)",
                "m:Utf8",
                "z:Utf8",
                "big:Utf8",
                "l:List(List(Int64))",
                "o:Utf8",
                "s:List(Struct(\"k\": Utf8))",
            ]
        );
        assert!(s.fields().iter().all(|f| f.is_nullable()));
        let batch = records_to_batch(&recs, &Arc::new(s)).unwrap();
        assert_eq!(batch.num_rows(), 3);
        let back = row_to_value(&batch, 1).unwrap();
        assert_eq!(back["m"], json!("one"));
        assert_eq!(back["big"], json!("18446744073709551615"));
        assert_eq!(back["d"], json!({"e": null, "f": "y"}));
        let back = row_to_value(&batch, 2).unwrap();
        assert_eq!(back["o"], json!("{}"));
        assert_eq!(back["s"], json!([{"k": "v"}, {"k": "1"}]));
        assert_eq!(back["l"], json!([[1], [2, 3]]));
        assert_eq!(row_to_value(&batch, 0).unwrap()["m"], json!("1"));
    }

    #[test]
    fn misfits_name_the_path_not_the_value() {
        let s = Arc::new(infer_schema(&[json!({"a": 1, "d": {"e": [true]}})]));
        assert!(fits(&json!({"a": null, "zz": null}), &s).is_ok());
        let e = fits(
            &json!({"a": 1, "d": {"e": [true, "secret@example.com"]}}),
            &s,
        )
        .unwrap_err();
        assert_eq!(e, "`d.e[1]`: string does not fit Boolean");
        let e = fits(&json!({"q": "secret@example.com"}), &s).unwrap_err();
        assert_eq!(e, "`q`: not in the schema");
        let e = records_to_batch(&[json!({"a": 1}), json!({"a": 1.5})], &s).unwrap_err();
        assert!(e.to_string().contains("record 1: `a`"), "{e}");
        assert!(fits(&json!([1]), &s).is_err());
    }

    /// The strings a JSONL record and the Parquet row it came from expose to the scrubber
    /// are the same, so both formats get the same tokens.
    #[test]
    fn json_and_arrow_visit_the_same_strings() {
        let batch = sample_batch(300, 11);
        let recs: Vec<Value> = (0..batch.num_rows())
            .map(|r| row_to_value(&batch, r).unwrap())
            .collect();
        let schema = Arc::new(infer_schema(&recs));
        let from_json = records_to_batch(&recs, &schema).unwrap();
        let strings = |b: &RecordBatch| {
            let mut v = Vec::new();
            visit_strings(b, &Selection::all(), &mut |row, path, s, _| {
                if path[0] != PathSeg::Key("created") {
                    v.push((row, s.to_string()));
                }
            });
            v.sort();
            v
        };
        assert_eq!(strings(&batch), strings(&from_json));
        let sel = Selection::parse(&["messages[*].content"]).unwrap();
        let mut a = Vec::new();
        visit_strings(&batch, &sel, &mut |r, _, s, _| a.push((r, s.to_string())));
        let mut b = Vec::new();
        visit_strings(&from_json, &sel, &mut |r, _, s, _| {
            b.push((r, s.to_string()))
        });
        assert_eq!(a, b);
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use crate::columnar::scrub::rewrite_strings;
    use crate::select::Selection;
    use proptest::prelude::*;
    use serde_json::{json, Map};

    fn text() -> impl Strategy<Value = Value> {
        prop_oneof![
            1 => Just(Value::Null),
            4 => "[a-c@. ]{0,6}".prop_map(Value::from),
        ]
    }

    fn int() -> impl Strategy<Value = Value> {
        prop_oneof![1 => Just(Value::Null), 3 => any::<i64>().prop_map(Value::from)]
    }

    fn obj() -> impl Strategy<Value = Value> {
        (text(), int(), prop::collection::vec(text(), 0..3))
            .prop_map(|(s, n, l)| json!({"s": s, "n": n, "l": l}))
    }

    /// Records whose keys each hold one kind (so no column falls back to JSON text):
    /// `s` strings, `n` integers, `l` lists of strings, `o` objects, `m` lists of objects.
    fn record() -> impl Strategy<Value = Value> {
        (
            prop::option::of(text()),
            prop::option::of(int()),
            prop::option::of(prop::collection::vec(text(), 0..4)),
            prop::option::of(prop_oneof![1 => Just(Value::Null), 3 => obj()]),
            prop::option::of(prop::collection::vec(obj(), 0..3)),
        )
            .prop_map(|(s, n, l, o, m)| {
                let mut r = Map::new();
                let mut put = |k: &str, v: Option<Value>| {
                    if let Some(v) = v {
                        r.insert(k.to_string(), v);
                    }
                };
                put("s", s);
                put("n", n);
                put("l", l.map(Value::from));
                put("o", o);
                put("m", m.map(Value::from));
                Value::Object(r)
            })
    }

    fn f(s: &str) -> Option<String> {
        s.contains('a').then(|| format!("<{}>", s.to_uppercase()))
    }

    fn rewrite_json(v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(f(s).unwrap_or_else(|| s.clone())),
            Value::Array(a) => Value::Array(a.iter().map(rewrite_json).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), rewrite_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    proptest! {
        /// Rewriting the Arrow form equals rewriting the JSON form: the two input formats
        /// expose the same strings to the scrubber.
        #[test]
        fn arrow_rewrite_matches_json_rewrite(recs in prop::collection::vec(record(), 1..12)) {
            let schema = Arc::new(infer_schema(&recs));
            let batch = records_to_batch(&recs, &schema).unwrap();
            let out = rewrite_strings(&batch, &Selection::all(), &mut |_, _, s, _| f(s)).unwrap();
            let want: Vec<Value> = recs.iter().map(rewrite_json).collect();
            let want = records_to_batch(&want, &schema).unwrap();
            for r in 0..recs.len() {
                prop_assert_eq!(row_to_value(&out, r).unwrap(), row_to_value(&want, r).unwrap());
            }
            // And the JSON of the untouched batch is the records, with absent keys as null.
            for (r, rec) in recs.iter().enumerate() {
                let back = row_to_value(&batch, r).unwrap();
                for (k, v) in rec.as_object().unwrap() {
                    if !(v.is_object() || v.is_array()) {
                        prop_assert_eq!(&back[k], v);
                    }
                }
            }
        }
    }
}
