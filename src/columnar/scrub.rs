//! Visiting and rewriting the selected strings of a [`RecordBatch`].
//!
//! This module knows Arrow layouts, not rules: it hands each selected string to a callback
//! together with its row and path, and rebuilds only the arrays whose strings the callback
//! replaced. Everything else (other columns, null buffers, offsets, field and schema
//! metadata) is carried over as the same buffers.
//!
//! # Order
//!
//! Rows are visited in order; within a row, columns in schema order, then depth first:
//! struct fields in field order, list and map entries in index order, a map's string key
//! just before its value. This is the order of the keys and values in the JSON object
//! [`super::json`] writes for the row, so a per-row text built from the visits matches the
//! one built from that JSON.
//!
//! # Paths
//!
//! The top-level column is `Key(name)`, a struct field `Key(name)`, a list element
//! `Index(i)`; a map value is `Key(key)` when the map has string keys (the key's text in
//! the input, whatever it is rewritten to), and `Index(i), Index(1)` otherwise (the
//! `[key, value]` pair of the JSON form). A string map key is visited with the path of its
//! map and `key = true`, as [`crate::json::walk`] reports a JSON object key with the path
//! of its object: `--field m` selects the keys and values of map `m`, `--field m.k` only
//! the value under key `k`. Keys of other types are never visited or altered. Null values,
//! and everything beneath a null struct, list or map, are not visited (they have no
//! logical value); Arrow map keys cannot be null.
//!
//! # Sorted maps
//!
//! A map type may declare its keys sorted (`keys_sorted`). The schema is kept exactly, so
//! when rewritten keys leave a map of such a type out of order, that map's entries are
//! stably re-sorted by key (UTF-8 byte order, values moving with their keys): the flag
//! stays true to the data, and no key is left unscrubbed to keep an order. Such a map is
//! the one place where the output's entry order (and so its JSON form and dedup text) can
//! differ from the input's; maps of types without the flag keep their order.
//!
//! # Types
//!
//! Strings are `Utf8`, `LargeUtf8`, `Utf8View` and dictionaries of those (any key type; the
//! output stays a dictionary with the same key type). They are found beneath `List`,
//! `LargeList`, `FixedSizeList`, `Struct` and `Map` (values, and keys of those types).
//! Other types, `ListView`, unions and run-end-encoded arrays included, are passed through
//! unvisited; [`unreachable_strings`] lists the strings they hold.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowDictionaryKeyType, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{
    Array, ArrayRef, DictionaryArray, FixedSizeListArray, GenericListArray, GenericStringArray,
    LargeStringArray, MapArray, OffsetSizeTrait, PrimitiveArray, RecordBatch, StringArray,
    StringViewArray, StructArray, UInt32Array,
};
use arrow_buffer::{ArrowNativeType, Buffer, NullBuffer, OffsetBuffer};
use arrow_schema::{ArrowError, DataType};

use crate::select::{PathSeg, Selection};

/// A read-only visitor: `(row, path, value, key)`. `key` is true for a map key, whose path
/// is then the path of its map (see the [module docs](self#paths)); like a JSON object key
/// ([`crate::json::StringValue::key`]) it is scanned but is not record content.
pub type Visit<'f> = dyn FnMut(usize, &[PathSeg<'_>], &str, bool) + 'f;

/// A rewriting visitor: `(row, path, value, key)` (as [`Visit`]) to `Some(replacement)` or
/// `None` (keep).
pub type Rewrite<'f> = dyn FnMut(usize, &[PathSeg<'_>], &str, bool) -> Option<String> + 'f;

/// The walk's callback: `(leaf, index in leaf, row, path, value, key)`.
type LeafFn<'a, 'f> = dyn FnMut(usize, usize, usize, &[PathSeg<'a>], &'a str, bool) + 'f;

/// Calls `f(row, path, value, key)` for every selected, non-null string of `batch`, map
/// keys included, in the order described in the [module docs](self).
pub fn visit_strings(batch: &RecordBatch, selection: &Selection, f: &mut Visit<'_>) {
    let plan = Plan::new(batch, selection);
    plan.walk(selection, &mut |_, _, row, path, s, key| {
        f(row, path, s, key)
    });
}

/// Calls `f(row, path, value, key)` for every selected, non-null string (same order as
/// [`visit_strings`]) and returns a batch in which each value or map key for which `f`
/// returned `Some` is replaced.
///
/// Arrays without a replacement are shared with the input; when `f` returns `None`
/// everywhere the result is a clone of `batch` (reference counts only). The schema, null
/// buffers and list offsets are unchanged; a dictionary column is re-encoded (same key
/// type, values in order of first use) when one of its values changed; the entries of a
/// map whose type declares sorted keys are re-sorted where rewritten keys broke the order
/// (see [Sorted maps](self#sorted-maps)).
pub fn rewrite_strings(
    batch: &RecordBatch,
    selection: &Selection,
    f: &mut Rewrite<'_>,
) -> Result<RecordBatch, ArrowError> {
    let plan = Plan::new(batch, selection);
    let mut edits: Vec<Vec<(usize, String)>> = vec![Vec::new(); plan.leaves];
    let mut any = false;
    plan.walk(selection, &mut |leaf, index, row, path, s, key| {
        if let Some(new) = f(row, path, s, key) {
            edits[leaf].push((index, new));
            any = true;
        }
    });
    if !any {
        return Ok(batch.clone());
    }
    let mut columns = batch.columns().to_vec();
    for (i, node) in plan.columns.iter().enumerate() {
        if let Some(node) = node {
            if let Some(new) = rebuild(node, &mut edits)? {
                columns[i] = new;
            }
        }
    }
    RecordBatch::try_new_with_options(
        batch.schema(),
        columns,
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
}

/// Paths of the string fields in `schema` that [`visit_strings`] and [`rewrite_strings`]
/// cannot reach (strings beneath `ListView`, unions, run-end encoding, or dictionaries of
/// nested values), in selector syntax (`a.b[*]`). A pipeline should refuse (or report) a
/// file for which this is not empty rather than pass those strings through unscanned.
/// String map keys (and dictionaries of strings) are reachable; strings inside keys of
/// other types (a struct or list key) are not, and are listed as `map[*][0]…`, their place
/// in the `[key, value]` pairs of the JSON form.
pub fn unreachable_strings(schema: &arrow_schema::Schema) -> Vec<String> {
    let mut out = Vec::new();
    for f in schema.fields() {
        unreachable_in(f.data_type(), f.name().clone(), true, &mut out);
    }
    out
}

/// A type the walk visits as a string: a string layout or a dictionary of one. The JSON form
/// writes a map with keys of such a type as an object.
pub(crate) fn is_string(t: &DataType) -> bool {
    match t {
        DataType::Dictionary(_, v) => is_plain_string(v),
        t => is_plain_string(t),
    }
}

/// Utf8, LargeUtf8 or Utf8View: a string array with no dictionary.
fn is_plain_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn unreachable_in(t: &DataType, path: String, reachable: bool, out: &mut Vec<String>) {
    match t {
        t if is_plain_string(t) && !reachable => out.push(path),
        DataType::Dictionary(_, v) => {
            unreachable_in(v, path, reachable && is_plain_string(v), out);
        }
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            unreachable_in(f.data_type(), format!("{path}[*]"), reachable, out);
        }
        DataType::ListView(f) | DataType::LargeListView(f) => {
            unreachable_in(f.data_type(), format!("{path}[*]"), false, out);
        }
        DataType::Struct(fs) => {
            for f in fs {
                unreachable_in(
                    f.data_type(),
                    format!("{path}.{}", f.name()),
                    reachable,
                    out,
                );
            }
        }
        DataType::Map(entries, _) => {
            if let DataType::Struct(kv) = entries.data_type() {
                if let Some(k) = kv.first() {
                    let (key_path, string) = if is_string(k.data_type()) {
                        (path.clone(), true)
                    } else {
                        (format!("{path}[*][0]"), false)
                    };
                    unreachable_in(k.data_type(), key_path, reachable && string, out);
                }
                if let Some(v) = kv.get(1) {
                    unreachable_in(v.data_type(), format!("{path}.*"), reachable, out);
                }
            }
        }
        DataType::Union(fs, _) => {
            for (_, f) in fs.iter() {
                unreachable_in(f.data_type(), format!("{path}.{}", f.name()), false, out);
            }
        }
        DataType::RunEndEncoded(_, v) => unreachable_in(v.data_type(), path, false, out),
        _ => {}
    }
}

// ---- plan: the string-bearing part of a batch, downcast once per batch ----

/// A string array of one of the three layouts.
#[derive(Clone, Copy)]
enum Strs<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
}

impl<'a> Strs<'a> {
    fn of(a: &'a dyn Array) -> Option<Strs<'a>> {
        Some(match a.data_type() {
            DataType::Utf8 => Strs::Utf8(a.as_string::<i32>()),
            DataType::LargeUtf8 => Strs::Large(a.as_string::<i64>()),
            DataType::Utf8View => Strs::View(a.as_string_view()),
            _ => return None,
        })
    }

    fn get(self, i: usize) -> Option<&'a str> {
        match self {
            Strs::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Strs::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Strs::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }

    fn len(self) -> usize {
        match self {
            Strs::Utf8(a) => a.len(),
            Strs::Large(a) => a.len(),
            Strs::View(a) => a.len(),
        }
    }
}

/// Dictionary keys, widened to `usize` lookups.
#[derive(Clone, Copy)]
enum Keys<'a> {
    I8(&'a DictionaryArray<Int8Type>),
    I16(&'a DictionaryArray<Int16Type>),
    I32(&'a DictionaryArray<Int32Type>),
    I64(&'a DictionaryArray<Int64Type>),
    U8(&'a DictionaryArray<UInt8Type>),
    U16(&'a DictionaryArray<UInt16Type>),
    U32(&'a DictionaryArray<UInt32Type>),
    U64(&'a DictionaryArray<UInt64Type>),
}

fn key_at<K: ArrowDictionaryKeyType>(d: &DictionaryArray<K>, i: usize) -> Option<usize> {
    let k = d.keys();
    k.is_valid(i).then(|| k.value(i).as_usize())
}

impl<'a> Keys<'a> {
    fn of(a: &'a dyn Array) -> Option<Keys<'a>> {
        let DataType::Dictionary(k, _) = a.data_type() else {
            return None;
        };
        Some(match k.as_ref() {
            DataType::Int8 => Keys::I8(a.as_dictionary()),
            DataType::Int16 => Keys::I16(a.as_dictionary()),
            DataType::Int32 => Keys::I32(a.as_dictionary()),
            DataType::Int64 => Keys::I64(a.as_dictionary()),
            DataType::UInt8 => Keys::U8(a.as_dictionary()),
            DataType::UInt16 => Keys::U16(a.as_dictionary()),
            DataType::UInt32 => Keys::U32(a.as_dictionary()),
            DataType::UInt64 => Keys::U64(a.as_dictionary()),
            _ => return None,
        })
    }

    fn get(self, i: usize) -> Option<usize> {
        match self {
            Keys::I8(d) => key_at(d, i),
            Keys::I16(d) => key_at(d, i),
            Keys::I32(d) => key_at(d, i),
            Keys::I64(d) => key_at(d, i),
            Keys::U8(d) => key_at(d, i),
            Keys::U16(d) => key_at(d, i),
            Keys::U32(d) => key_at(d, i),
            Keys::U64(d) => key_at(d, i),
        }
    }
}

/// List offsets of either width, as `usize` ranges.
#[derive(Clone, Copy)]
enum Offsets<'a> {
    Small(&'a OffsetBuffer<i32>),
    Large(&'a OffsetBuffer<i64>),
}

impl Offsets<'_> {
    fn range(self, i: usize) -> std::ops::Range<usize> {
        match self {
            Offsets::Small(o) => o[i].as_usize()..o[i + 1].as_usize(),
            Offsets::Large(o) => o[i].as_usize()..o[i + 1].as_usize(),
        }
    }
}

enum Kind<'a> {
    Str(Strs<'a>),
    Dict(Keys<'a>, Strs<'a>),
    List(Offsets<'a>, Box<Node<'a>>),
    Fixed(&'a FixedSizeListArray, Box<Node<'a>>),
    Struct(Vec<(&'a str, Option<Node<'a>>)>),
    /// A map: the leaf of its keys when they are strings (built whatever the selection, as
    /// they name the values in paths) and the node of its values, at least one of them.
    Map {
        map: &'a MapArray,
        keys: Option<Box<Node<'a>>>,
        values: Option<Box<Node<'a>>>,
    },
}

struct Node<'a> {
    array: &'a ArrayRef,
    /// Leaf number for `Str`/`Dict`, the index into the edit lists.
    leaf: usize,
    kind: Kind<'a>,
}

impl<'a> Node<'a> {
    /// The string at `i` of a `Str` or `Dict` leaf (`None` when null or not a leaf).
    fn text(&self, i: usize) -> Option<&'a str> {
        match &self.kind {
            Kind::Str(s) => s.get(i),
            Kind::Dict(keys, values) => keys.get(i).and_then(|k| values.get(k)),
            _ => None,
        }
    }
}

struct Plan<'a> {
    columns: Vec<Option<Node<'a>>>,
    names: Vec<&'a str>,
    rows: usize,
    leaves: usize,
}

/// Does a path with only keys so far (no list crossed) possibly lead to a selected string?
fn may_select(selection: &Selection, path: &[PathSeg<'_>], past_list: bool) -> bool {
    // Beneath a list the indices decide, which is checked per value while walking.
    past_list || selection.may_select_within(path)
}

impl<'a> Plan<'a> {
    fn new(batch: &'a RecordBatch, selection: &Selection) -> Plan<'a> {
        let schema = batch.schema_ref();
        let mut leaves = 0;
        let mut columns = Vec::with_capacity(batch.num_columns());
        let mut names = Vec::with_capacity(batch.num_columns());
        for (field, array) in schema.fields().iter().zip(batch.columns()) {
            let name = field.name().as_str();
            names.push(name);
            let path = [PathSeg::Key(name)];
            let node = if selection.may_select_within(&path) {
                build(array, selection, &mut path.to_vec(), false, &mut leaves)
            } else {
                None
            };
            columns.push(node);
        }
        Plan {
            columns,
            names,
            rows: batch.num_rows(),
            leaves,
        }
    }

    /// Calls `cb(leaf, index, row, path, value)` for each selected string, in order.
    fn walk(&self, selection: &Selection, cb: &mut LeafFn<'a, '_>) {
        if self.columns.iter().all(Option::is_none) {
            return;
        }
        let mut path: Vec<PathSeg<'a>> = Vec::with_capacity(8);
        for row in 0..self.rows {
            for (node, name) in self.columns.iter().zip(&self.names) {
                if let Some(node) = node {
                    path.clear();
                    path.push(PathSeg::Key(name));
                    walk(node, row, row, selection, &mut path, cb);
                }
            }
        }
    }
}

/// Builds the node for `array` at `path`, or `None` when nothing beneath can be visited.
fn build<'a>(
    array: &'a ArrayRef,
    selection: &Selection,
    path: &mut Vec<PathSeg<'a>>,
    past_list: bool,
    leaves: &mut usize,
) -> Option<Node<'a>> {
    let kind = match array.data_type() {
        t if is_plain_string(t) => Kind::Str(Strs::of(array.as_ref())?),
        DataType::Dictionary(_, v) if is_plain_string(v) => {
            let keys = Keys::of(array.as_ref())?;
            let values = array.as_any_dictionary().values();
            Kind::Dict(keys, Strs::of(values.as_ref())?)
        }
        DataType::List(_) => {
            let l = array.as_list::<i32>();
            let child = build(l.values(), selection, path, true, leaves)?;
            Kind::List(Offsets::Small(l.offsets()), Box::new(child))
        }
        DataType::LargeList(_) => {
            let l = array.as_list::<i64>();
            let child = build(l.values(), selection, path, true, leaves)?;
            Kind::List(Offsets::Large(l.offsets()), Box::new(child))
        }
        DataType::FixedSizeList(_, _) => {
            let l = array.as_fixed_size_list();
            let child = build(l.values(), selection, path, true, leaves)?;
            Kind::Fixed(l, Box::new(child))
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut children = Vec::with_capacity(fields.len());
            for (f, c) in fields.iter().zip(s.columns()) {
                path.push(PathSeg::Key(f.name()));
                let node = if may_select(selection, path, past_list) {
                    build(c, selection, path, past_list, leaves)
                } else {
                    None
                };
                path.pop();
                children.push((f.name().as_str(), node));
            }
            if children.iter().all(|(_, n)| n.is_none()) {
                return None;
            }
            Kind::Struct(children)
        }
        DataType::Map(_, _) => {
            let m = array.as_map();
            // Whether a key is selected depends on the map's own path, which may lie beneath
            // a list: decided per map while walking.
            let keys = if is_string(m.keys().data_type()) {
                build(m.keys(), selection, path, true, leaves)
            } else {
                None
            };
            // Map values sit beneath a key we cannot know here: decide per entry.
            let values = build(m.values(), selection, path, true, leaves);
            if keys.is_none() && values.is_none() {
                return None;
            }
            Kind::Map {
                map: m,
                keys: keys.map(Box::new),
                values: values.map(Box::new),
            }
        }
        _ => return None,
    };
    let leaf = match kind {
        Kind::Str(_) | Kind::Dict(..) => {
            *leaves += 1;
            *leaves - 1
        }
        _ => usize::MAX,
    };
    Some(Node { array, leaf, kind })
}

fn walk<'a>(
    node: &Node<'a>,
    i: usize,
    row: usize,
    selection: &Selection,
    path: &mut Vec<PathSeg<'a>>,
    cb: &mut LeafFn<'a, '_>,
) {
    match &node.kind {
        Kind::Str(_) | Kind::Dict(..) => {
            if let Some(v) = node.text(i) {
                if selection.selects(path) {
                    cb(node.leaf, i, row, path, v, false);
                }
            }
        }
        Kind::List(offsets, child) => {
            if node.array.is_valid(i) {
                let r = offsets.range(i);
                let start = r.start;
                for j in r {
                    path.push(PathSeg::Index(j - start));
                    if selection.may_select_within(path) {
                        walk(child, j, row, selection, path, cb);
                    }
                    path.pop();
                }
            }
        }
        Kind::Fixed(l, child) => {
            if l.is_valid(i) {
                let start = l.value_offset_at(i);
                for k in 0..l.value_length().as_usize() {
                    path.push(PathSeg::Index(k));
                    if selection.may_select_within(path) {
                        walk(child, start + k, row, selection, path, cb);
                    }
                    path.pop();
                }
            }
        }
        Kind::Struct(children) => {
            if node.array.is_valid(i) {
                for (name, child) in children {
                    if let Some(child) = child {
                        path.push(PathSeg::Key(name));
                        if selection.may_select_within(path) {
                            walk(child, i, row, selection, path, cb);
                        }
                        path.pop();
                    }
                }
            }
        }
        Kind::Map { map, keys, values } => {
            if map.is_valid(i) {
                let o = map.value_offsets();
                let (start, end) = (o[i].as_usize(), o[i + 1].as_usize());
                // A key has the map's path, as a JSON key has its object's.
                let keys_selected = keys.is_some() && selection.selects(path);
                for j in start..end {
                    let depth = path.len();
                    match keys {
                        Some(k) => {
                            let text = k.text(j);
                            if let (true, Some(t)) = (keys_selected, text) {
                                cb(k.leaf, j, row, path, t, true);
                            }
                            // Only a dictionary can hold a null key text; the JSON form
                            // writes it as "".
                            path.push(PathSeg::Key(text.unwrap_or_default()));
                        }
                        None => {
                            path.push(PathSeg::Index(j - start));
                            path.push(PathSeg::Index(1));
                        }
                    }
                    if let Some(v) = values {
                        if selection.may_select_within(path) {
                            walk(v, j, row, selection, path, cb);
                        }
                    }
                    path.truncate(depth);
                }
            }
        }
    }
}

// ---- rebuild: new arrays for the nodes that got edits ----

fn rebuild(
    node: &Node<'_>,
    edits: &mut [Vec<(usize, String)>],
) -> Result<Option<ArrayRef>, ArrowError> {
    Ok(Some(match &node.kind {
        Kind::Str(s) => {
            let e = std::mem::take(&mut edits[node.leaf]);
            if e.is_empty() {
                return Ok(None);
            }
            rebuild_strings(*s, e)?
        }
        Kind::Dict(keys, values) => {
            let e = std::mem::take(&mut edits[node.leaf]);
            if e.is_empty() {
                return Ok(None);
            }
            rebuild_dictionary(node.array, *keys, *values, e)?
        }
        Kind::List(_, child) => {
            let Some(values) = rebuild(child, edits)? else {
                return Ok(None);
            };
            match node.array.data_type() {
                DataType::List(f) => {
                    let l = node.array.as_list::<i32>();
                    Arc::new(GenericListArray::<i32>::try_new(
                        f.clone(),
                        l.offsets().clone(),
                        values,
                        l.nulls().cloned(),
                    )?)
                }
                DataType::LargeList(f) => {
                    let l = node.array.as_list::<i64>();
                    Arc::new(GenericListArray::<i64>::try_new(
                        f.clone(),
                        l.offsets().clone(),
                        values,
                        l.nulls().cloned(),
                    )?)
                }
                _ => unreachable!("list node holds a list array"),
            }
        }
        Kind::Fixed(l, child) => {
            let Some(values) = rebuild(child, edits)? else {
                return Ok(None);
            };
            let DataType::FixedSizeList(f, size) = l.data_type() else {
                unreachable!("fixed-size list node holds a fixed-size list array")
            };
            Arc::new(FixedSizeListArray::try_new(
                f.clone(),
                *size,
                values,
                l.nulls().cloned(),
            )?)
        }
        Kind::Struct(children) => {
            let s = node.array.as_struct();
            let mut columns = s.columns().to_vec();
            let mut changed = false;
            for (i, (_, child)) in children.iter().enumerate() {
                if let Some(child) = child {
                    if let Some(new) = rebuild(child, edits)? {
                        columns[i] = new;
                        changed = true;
                    }
                }
            }
            if !changed {
                return Ok(None);
            }
            Arc::new(StructArray::try_new_with_length(
                s.fields().clone(),
                columns,
                s.nulls().cloned(),
                s.len(),
            )?)
        }
        Kind::Map { map, keys, values } => {
            let DataType::Map(f, sorted_keys) = map.data_type() else {
                unreachable!("map node holds a map array")
            };
            // Entry indices whose key was replaced, before `rebuild` takes the edits.
            let mut rekeyed: Vec<usize> = match keys {
                Some(k) if *sorted_keys => edits[k.leaf].iter().map(|e| e.0).collect(),
                _ => Vec::new(),
            };
            rekeyed.sort_unstable();
            let new_keys = match keys {
                Some(k) => rebuild(k, edits)?,
                None => None,
            };
            let new_values = match values {
                Some(v) => rebuild(v, edits)?,
                None => None,
            };
            if new_keys.is_none() && new_values.is_none() {
                return Ok(None);
            }
            let entries = map.entries();
            let mut entries = StructArray::try_new_with_length(
                entries.fields().clone(),
                vec![
                    new_keys.unwrap_or_else(|| entries.column(0).clone()),
                    new_values.unwrap_or_else(|| entries.column(1).clone()),
                ],
                entries.nulls().cloned(),
                entries.len(),
            )?;
            if !rekeyed.is_empty() {
                entries = resort(map, entries, &rekeyed)?;
            }
            Arc::new(MapArray::try_new(
                f.clone(),
                map.offsets().clone(),
                entries,
                map.nulls().cloned(),
                *sorted_keys,
            )?)
        }
    }))
}

/// `entries` of a `keys_sorted` map with the entries of each map that got a new key (an
/// index in `rekeyed`, sorted) stably re-sorted by key where they are out of order.
///
/// Clearing the flag would change the schema (Parquet output keeps it exactly) and keeping
/// a key unscrubbed to hold the order would leak it, so the order is restored instead.
/// Maps without a new key keep their entries as they were, sorted or not.
fn resort(
    map: &MapArray,
    entries: StructArray,
    rekeyed: &[usize],
) -> Result<StructArray, ArrowError> {
    let keys = entries.column(0).as_ref();
    let plain = Strs::of(keys);
    let dict = match plain {
        Some(_) => None,
        None => Keys::of(keys).zip(Strs::of(keys.as_any_dictionary().values().as_ref())),
    };
    let text = |j: usize| -> Option<&str> {
        match (plain, dict) {
            (Some(s), _) => s.get(j),
            (None, Some((k, v))) => k.get(j).and_then(|k| v.get(k)),
            (None, None) => None,
        }
    };
    let offsets = map.value_offsets();
    let mut order: Option<Vec<u32>> = None;
    for i in 0..map.len() {
        let (start, end) = (offsets[i].as_usize(), offsets[i + 1].as_usize());
        let first = rekeyed.partition_point(|&j| j < start);
        if rekeyed.get(first).is_none_or(|&j| j >= end) {
            continue;
        }
        if (start + 1..end).all(|j| text(j - 1) <= text(j)) {
            continue;
        }
        let order = order.get_or_insert_with(|| (0..entries.len() as u32).collect());
        // `sort_by` is stable: equal keys (two values given the same pseudonym) keep their
        // relative order.
        order[start..end].sort_by(|&a, &b| text(a as usize).cmp(&text(b as usize)));
    }
    let Some(order) = order else {
        return Ok(entries);
    };
    let taken = arrow_select::take::take(&entries, &UInt32Array::from(order), None)?;
    Ok(taken.as_struct().clone())
}

/// `edits` sorted by index (the walk visits a leaf in increasing index order; sort anyway).
fn sorted(mut edits: Vec<(usize, String)>) -> Vec<(usize, String)> {
    if !edits.is_sorted_by_key(|e| e.0) {
        edits.sort_by_key(|e| e.0);
    }
    edits
}

/// The values of `s` with `edits` applied; `None` for nulls.
fn patched<'s>(
    s: Strs<'s>,
    edits: &'s [(usize, String)],
) -> impl Iterator<Item = Option<&'s str>> + 's {
    let mut next = edits.iter().peekable();
    (0..s.len()).map(move |i| match next.peek() {
        Some((j, new)) if *j == i => {
            next.next();
            Some(new.as_str())
        }
        _ => s.get(i),
    })
}

fn rebuild_strings(s: Strs<'_>, edits: Vec<(usize, String)>) -> Result<ArrayRef, ArrowError> {
    let edits = sorted(edits);
    Ok(match s {
        Strs::Utf8(a) => Arc::new(patch_offsets::<i32>(a, &edits)?),
        Strs::Large(a) => Arc::new(patch_offsets::<i64>(a, &edits)?),
        Strs::View(a) => {
            let out: StringViewArray = patched(s, &edits).collect();
            // Same null positions; keep the input's buffer itself.
            let (views, buffers, _) = out.into_parts();
            Arc::new(StringViewArray::try_new(
                views,
                buffers,
                a.nulls().cloned(),
            )?)
        }
    })
}

/// A copy of `a` with `edits` applied, keeping `a`'s null buffer.
fn patch_offsets<O: OffsetSizeTrait>(
    a: &GenericStringArray<O>,
    edits: &[(usize, String)],
) -> Result<GenericStringArray<O>, ArrowError> {
    let grow: usize = edits.iter().map(|(_, s)| s.len()).sum();
    let mut values = Vec::with_capacity(a.values().len() + grow);
    let mut offsets = Vec::with_capacity(a.len() + 1);
    offsets.push(O::usize_as(0));
    let mut next = edits.iter().peekable();
    for i in 0..a.len() {
        match next.peek() {
            Some((j, new)) if *j == i => {
                values.extend_from_slice(new.as_bytes());
                next.next();
            }
            // Null slots keep whatever bytes they had; copy them to keep lengths.
            _ => values.extend_from_slice(a.value(i).as_bytes()),
        }
        let end = O::from_usize(values.len())
            .ok_or_else(|| ArrowError::OffsetOverflowError(values.len()))?;
        offsets.push(end);
    }
    GenericStringArray::try_new(
        OffsetBuffer::new(offsets.into()),
        Buffer::from_vec(values),
        a.nulls().cloned(),
    )
}

fn rebuild_dictionary(
    array: &ArrayRef,
    keys: Keys<'_>,
    values: Strs<'_>,
    edits: Vec<(usize, String)>,
) -> Result<ArrayRef, ArrowError> {
    let edits = sorted(edits);
    // The logical value of each slot after the edits, then a fresh dictionary of the values
    // in use, in order of first use (this drops values no row refers to any more).
    let mut next = edits.iter().peekable();
    let mut interned: HashMap<&str, usize> = HashMap::new();
    let mut dict: Vec<Option<&str>> = Vec::new();
    let mut null_value: Option<usize> = None;
    let mut new_keys: Vec<Option<usize>> = Vec::with_capacity(array.len());
    for i in 0..array.len() {
        let Some(k) = keys.get(i) else {
            new_keys.push(None);
            continue;
        };
        let v: Option<&str> = match next.peek() {
            Some((j, new)) if *j == i => {
                next.next();
                Some(new.as_str())
            }
            _ => values.get(k),
        };
        let key = match v {
            Some(v) => *interned.entry(v).or_insert_with(|| {
                dict.push(Some(v));
                dict.len() - 1
            }),
            // A valid key to a null value: keep it so (the slot stays logically null).
            None => *null_value.get_or_insert_with(|| {
                dict.push(None);
                dict.len() - 1
            }),
        };
        new_keys.push(Some(key));
    }
    let new_values: ArrayRef = match values {
        Strs::Utf8(_) => Arc::new(dict.iter().copied().collect::<StringArray>()),
        Strs::Large(_) => Arc::new(dict.iter().copied().collect::<LargeStringArray>()),
        Strs::View(_) => Arc::new(dict.iter().copied().collect::<StringViewArray>()),
    };
    let DataType::Dictionary(kt, _) = array.data_type() else {
        unreachable!("dictionary node holds a dictionary array")
    };
    let nulls = array.as_any_dictionary().keys().nulls().cloned();
    Ok(match kt.as_ref() {
        DataType::Int8 => make_dict::<Int8Type>(&new_keys, nulls, new_values)?,
        DataType::Int16 => make_dict::<Int16Type>(&new_keys, nulls, new_values)?,
        DataType::Int32 => make_dict::<Int32Type>(&new_keys, nulls, new_values)?,
        DataType::Int64 => make_dict::<Int64Type>(&new_keys, nulls, new_values)?,
        DataType::UInt8 => make_dict::<UInt8Type>(&new_keys, nulls, new_values)?,
        DataType::UInt16 => make_dict::<UInt16Type>(&new_keys, nulls, new_values)?,
        DataType::UInt32 => make_dict::<UInt32Type>(&new_keys, nulls, new_values)?,
        DataType::UInt64 => make_dict::<UInt64Type>(&new_keys, nulls, new_values)?,
        other => {
            return Err(ArrowError::InvalidArgumentError(format!(
                "dictionary key type {other} is not an integer"
            )))
        }
    })
}

fn make_dict<K: ArrowDictionaryKeyType>(
    keys: &[Option<usize>],
    nulls: Option<NullBuffer>,
    values: ArrayRef,
) -> Result<ArrayRef, ArrowError> {
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        let k = k.unwrap_or(0);
        out.push(K::Native::from_usize(k).ok_or_else(|| ArrowError::DictionaryKeyOverflowError)?);
    }
    let keys = PrimitiveArray::<K>::try_new(out.into(), nulls)?;
    Ok(Arc::new(DictionaryArray::<K>::try_new(keys, values)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columnar::testdata::sample_batch;
    use arrow_array::builder::StringDictionaryBuilder;
    use arrow_schema::{Field, Schema};

    fn paths(batch: &RecordBatch, sel: &Selection) -> Vec<(usize, String, String)> {
        let mut out = Vec::new();
        visit_strings(batch, sel, &mut |row, path, s, _| {
            let p: Vec<String> = path
                .iter()
                .map(|p| match p {
                    PathSeg::Key(_) | PathSeg::EscapedKey(_) => p.key().unwrap().to_string(),
                    PathSeg::Index(i) => format!("[{i}]"),
                })
                .collect();
            out.push((row, p.join("."), s.to_string()));
        });
        out
    }

    fn upper(_: usize, _: &[PathSeg<'_>], s: &str, _: bool) -> Option<String> {
        s.contains('@').then(|| s.to_uppercase())
    }

    #[test]
    fn rewrites_every_string_and_shares_the_rest() {
        let batch = sample_batch(200, 3);
        let out = rewrite_strings(&batch, &Selection::all(), &mut upper).unwrap();
        assert_eq!(out.schema(), batch.schema());
        assert_eq!(out.num_rows(), batch.num_rows());
        for name in ["id", "score", "created"] {
            let i = batch.schema().index_of(name).unwrap();
            assert!(Arc::ptr_eq(batch.column(i), out.column(i)), "{name}");
        }
        let before = paths(&batch, &Selection::all());
        let after = paths(&out, &Selection::all());
        assert_eq!(before.len(), after.len());
        for (b, a) in before.iter().zip(&after) {
            assert_eq!((b.0, &b.1), (a.0, &a.1));
            assert_eq!(a.2, upper(0, &[], &b.2, false).unwrap_or(b.2.clone()));
        }
        assert!(after.iter().all(|a| !a.2.contains("@example")));
        // Nulls and offsets of rebuilt nested columns are the input's.
        for name in ["text", "tags", "messages", "meta"] {
            let i = batch.schema().index_of(name).unwrap();
            let (b, a) = (batch.column(i).to_data(), out.column(i).to_data());
            assert_eq!(b.nulls(), a.nulls(), "{name}");
            if name == "tags" || name == "messages" {
                assert_eq!(b.buffers()[0], a.buffers()[0], "{name} offsets");
            }
        }
    }

    #[test]
    fn nothing_to_replace_returns_the_same_arrays() {
        let batch = sample_batch(100, 1);
        let mut calls = 0;
        let out = rewrite_strings(&batch, &Selection::all(), &mut |_, _, _, _| {
            calls += 1;
            None
        })
        .unwrap();
        assert!(calls > 100);
        for (a, b) in batch.columns().iter().zip(out.columns()) {
            assert!(Arc::ptr_eq(a, b));
        }
    }

    #[test]
    fn visits_rows_in_order_with_json_paths() {
        let batch = sample_batch(30, 5);
        let all = paths(&batch, &Selection::all());
        assert!(all.windows(2).all(|w| w[0].0 <= w[1].0), "row-major order");
        let kinds: std::collections::BTreeSet<String> = all
            .iter()
            .map(|(_, p, _)| {
                p.split('.')
                    .map(|s| if s.starts_with('[') { "[i]" } else { s })
                    .collect::<Vec<_>>()
                    .join(".")
            })
            .collect();
        let want = [
            "lang",
            "messages.[i].content",
            "messages.[i].role",
            "meta.author",
            "meta.source",
            "tags.[i]",
            "text",
        ];
        assert_eq!(kinds.into_iter().collect::<Vec<_>>(), want);

        let sel = Selection::parse(&["messages[*].content", "meta.author"]).unwrap();
        let some = paths(&batch, &sel);
        assert!(!some.is_empty());
        assert!(some
            .iter()
            .all(|(_, p, _)| p.ends_with(".content") || p == "meta.author"));
        let expected: Vec<_> = all
            .iter()
            .filter(|(_, p, _)| p.ends_with(".content") || p == "meta.author")
            .cloned()
            .collect();
        assert_eq!(some, expected);

        let first = Selection::parse(&["messages[1]"]).unwrap();
        assert!(paths(&batch, &first)
            .iter()
            .all(|(_, p, _)| p.starts_with("messages.[1].")));
    }

    #[test]
    fn reports_strings_it_cannot_reach() {
        use crate::columnar::testdata::{exotic_batch, sample_schema};
        assert!(unreachable_strings(&sample_schema()).is_empty());
        assert!(unreachable_strings(&exotic_batch().schema()).is_empty());
        let lv = DataType::ListView(Arc::new(Field::new_list_field(DataType::Utf8, true)));
        let ree = DataType::RunEndEncoded(
            Arc::new(Field::new("run_ends", DataType::Int32, false)),
            Arc::new(Field::new("values", DataType::Utf8, true)),
        );
        let schema = Schema::new(vec![
            Field::new("ok", DataType::Utf8, true),
            Field::new_struct("s", vec![Field::new("lv", lv, true)], true),
            Field::new("r", ree, true),
        ]);
        assert_eq!(unreachable_strings(&schema), ["s.lv[*]", "r"]);

        // String and dictionary keys are reached; strings inside a struct key are not.
        let map = |key: DataType| {
            let entries = Field::new_struct(
                "entries",
                vec![
                    Field::new("key", key, false),
                    Field::new("value", DataType::Int64, true),
                ],
                false,
            );
            DataType::Map(Arc::new(entries), false)
        };
        let dict = DataType::Dictionary(Box::new(DataType::Int16), Box::new(DataType::Utf8View));
        let skey = DataType::Struct(vec![Field::new("f", DataType::LargeUtf8, true)].into());
        let schema = Schema::new(vec![
            Field::new("a", map(DataType::Utf8), true),
            Field::new("b", map(dict), true),
            Field::new("c", map(skey), true),
        ]);
        assert_eq!(unreachable_strings(&schema), ["c[*][0].f"]);
    }

    #[test]
    fn dictionary_stays_dictionary() {
        let mut b = StringDictionaryBuilder::<UInt8Type>::new();
        for v in [
            Some("a@x.io"),
            None,
            Some("plain"),
            Some("a@x.io"),
            Some("b@y.io"),
        ] {
            b.append_option(v);
        }
        let dict = b.finish();
        let schema = Arc::new(Schema::new(vec![Field::new(
            "d",
            dict.data_type().clone(),
            true,
        )]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(dict)]).unwrap();
        let mut rows = Vec::new();
        let out = rewrite_strings(&batch, &Selection::all(), &mut |row, _, s, _| {
            rows.push(row);
            s.contains('@').then(|| "<E>".to_string())
        })
        .unwrap();
        assert_eq!(rows, [0, 2, 3, 4], "one call per row, nulls skipped");
        assert_eq!(out.schema(), batch.schema());
        let got: Vec<_> = paths(&out, &Selection::all())
            .into_iter()
            .map(|(r, _, s)| (r, s))
            .collect();
        assert_eq!(
            got,
            [
                (0, "<E>".into()),
                (2, "plain".into()),
                (3, "<E>".into()),
                (4, "<E>".into())
            ]
        );
        let d = out.column(0).as_dictionary::<UInt8Type>();
        assert_eq!(d.values().len(), 2, "unused values are dropped");
        assert!(d.is_null(1));
    }

    #[test]
    fn map_large_view_fixed_and_large_list() {
        let batch = crate::columnar::testdata::exotic_batch();
        let got = paths(&batch, &Selection::all());
        let want: Vec<(usize, String, String)> = [
            // A string key just before its value, with the map's path.
            (0, "m", "email"),
            (0, "m.email", "a@x.io"),
            (0, "m", "name"),
            (0, "mi.[0].[1]", "b@x.io"),
            (0, "large", "c@x.io"),
            (0, "fixed.[0]", "e@x.io"),
            (0, "fixed.[1]", "ok"),
            (1, "view", "a long string value d@x.io !!"),
            (1, "ll.[0]", "f@x.io"),
        ]
        .iter()
        .map(|(r, p, s)| (*r, p.to_string(), s.to_string()))
        .collect();
        assert_eq!(got, want);

        let out = rewrite_strings(&batch, &Selection::all(), &mut upper).unwrap();
        assert_eq!(out.schema(), batch.schema());
        let after = paths(&out, &Selection::all());
        assert!(
            after.iter().all(|(_, _, s)| !s.contains("@x.io")),
            "{after:?}"
        );
        assert_eq!(after.len(), want.len());
        // Keys without an `@` are not replaced; the value is.
        let s = |r: usize, p: &str, v: &str| (r, p.to_string(), v.to_string());
        assert_eq!(
            after[..3],
            [
                s(0, "m", "email"),
                s(0, "m.email", "A@X.IO"),
                s(0, "m", "name")
            ]
        );
        assert!(Arc::ptr_eq(batch.column(0), out.column(0)));

        // A sliced batch visits and rewrites only its rows.
        let sliced = batch.slice(1, 1);
        let got = paths(&sliced, &Selection::all());
        assert_eq!(got.len(), 2);
        let out = rewrite_strings(&sliced, &Selection::all(), &mut upper).unwrap();
        assert_eq!(paths(&out, &Selection::all())[1].2, "F@X.IO");
    }

    /// `(row, path, value, key)` of every visit.
    fn visits(batch: &RecordBatch, sel: &Selection) -> Vec<(usize, String, String, bool)> {
        let mut out = Vec::new();
        visit_strings(batch, sel, &mut |row, path, s, key| {
            out.push((row, crate::json::render_path(path), s.to_string(), key));
        });
        out
    }

    #[test]
    fn map_keys_are_visited_and_selected_like_json_keys() {
        let batch = crate::columnar::testdata::map_batch();
        let v = |r: usize, p: &str, s: &str, k: bool| (r, p.to_string(), s.to_string(), k);
        let all = visits(&batch, &Selection::all());
        // Row 0 in full: a key just before its value; `counts` has no string values.
        let row0: Vec<_> = all.iter().filter(|x| x.0 == 0).cloned().collect();
        assert_eq!(
            row0,
            [
                v(0, "counts", "alice@example.com", true),
                v(0, "counts", "plain", true),
                v(0, "attrs", "carol@example.com", true),
                v(
                    0,
                    "attrs.carol@example.com",
                    "write to dave@example.net",
                    false
                ),
                v(0, "attrs", "lang", true),
                v(0, "attrs.lang", "en", false),
                v(0, "dict", "frank@example.com", true),
                v(0, "dict.frank@example.com", "a", false),
                v(0, "dict", "plain", true),
                v(0, "dict.plain", "b", false),
                v(0, "sorted", "a-team", true),
                v(0, "sorted.a-team", "x", false),
                v(0, "sorted", "grace@example.com", true),
                v(0, "sorted.grace@example.com", "y", false),
                v(0, "sorted", "zeta", true),
                v(0, "sorted.zeta", "z", false),
            ]
        );
        // Keys of null values are visited (the JSON form has them); null maps have none.
        assert!(all.contains(&v(1, "attrs", "erin@example.com", true)));
        assert!(!all.iter().any(|x| x.0 == 1 && x.1.starts_with("counts")));
        assert!(!all.iter().any(|x| x.0 == 2));

        // `--field attrs`: keys and values of that map; `--field attrs.lang`: one value,
        // no key (a key has the map's path, as a JSON key has its object's).
        let sel = Selection::parse(&["attrs"]).unwrap();
        let got = visits(&batch, &sel);
        assert!(got.iter().all(|x| x.1.starts_with("attrs")));
        assert_eq!(got.iter().filter(|x| x.3).count(), 8);
        let sel = Selection::parse(&["attrs.lang"]).unwrap();
        assert_eq!(visits(&batch, &sel), [v(0, "attrs.lang", "en", false)]);
        let sel = Selection::parse(&["counts"]).unwrap();
        let got = visits(&batch, &sel);
        assert_eq!(got.len(), 6);
        assert!(got.iter().all(|x| x.3 && x.1 == "counts"));

        // Rewriting a key does not rename its value's path: selection and the callback
        // see the key's text in the input.
        let sel = Selection::parse(&["attrs", r#"dict["frank@example.com"]"#]).unwrap();
        let mut seen = Vec::new();
        let out = rewrite_strings(&batch, &sel, &mut |row, path, s, key| {
            seen.push((row, crate::json::render_path(path), key));
            s.contains('@').then(|| "<E>".to_string())
        })
        .unwrap();
        assert!(seen.contains(&(0, "attrs.carol@example.com".into(), false)));
        assert!(seen.contains(&(1, "dict.frank@example.com".into(), false)));
        assert!(
            !seen.iter().any(|x| x.1 == "dict"),
            "dict keys not selected"
        );
        let after = visits(&out, &Selection::all());
        assert!(after.contains(&v(0, "attrs", "<E>", true)));
        assert!(after.contains(&v(0, "attrs.<E>", "<E>", false)));
        assert!(after.contains(&v(0, "dict", "frank@example.com", true)));
        assert!(after.contains(&v(0, "counts", "alice@example.com", true)));
        assert!(Arc::ptr_eq(batch.column(1), out.column(1)));
        assert!(Arc::ptr_eq(batch.column(4), out.column(4)));
    }

    #[test]
    fn map_with_only_string_keys_and_no_string_values_is_rewritten() {
        use arrow_array::builder::{Int64Builder, MapBuilder, StringBuilder};
        let mut m = MapBuilder::new(None, StringBuilder::new(), Int64Builder::new());
        for (k, n) in [("a@x.io", 1), ("b", 2)] {
            m.keys().append_value(k);
            m.values().append_value(n);
        }
        m.append(true).unwrap();
        let map = m.finish();
        let schema = Arc::new(Schema::new(vec![Field::new(
            "m",
            map.data_type().clone(),
            true,
        )]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(map)]).unwrap();
        let out = rewrite_strings(&batch, &Selection::all(), &mut upper).unwrap();
        assert_eq!(
            paths(&out, &Selection::all()),
            [
                (0, "m".into(), "A@X.IO".into()),
                (0, "m".into(), "b".into())
            ]
        );
        let (x, y) = (batch.column(0).as_map(), out.column(0).as_map());
        assert_eq!(x.values(), y.values(), "values shared");
    }
}
