//! The default rule files, embedded so the binary works with no files beside it.
//!
//! Adding a file to `patterns/` means adding it here; the test below fails otherwise.

/// `(path relative to patterns/, contents)`, in sorted path order.
pub(crate) const FILES: &[(&str, &str)] = &[
    (
        "pii/email.toml",
        include_str!("../../patterns/pii/email.toml"),
    ),
    (
        "pii/finance.toml",
        include_str!("../../patterns/pii/finance.toml"),
    ),
    (
        "pii/network.toml",
        include_str!("../../patterns/pii/network.toml"),
    ),
    (
        "pii/phone.toml",
        include_str!("../../patterns/pii/phone.toml"),
    ),
];

#[cfg(test)]
mod tests {
    use super::FILES;

    #[test]
    fn every_pattern_file_is_embedded_in_sorted_order() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("patterns");
        let mut on_disk = Vec::new();
        super::super::collect_toml(&root, &root, &mut on_disk).unwrap();
        on_disk.sort();
        let embedded: Vec<&str> = FILES.iter().map(|(n, _)| *n).collect();
        assert_eq!(embedded, on_disk, "patterns/ and rules/builtin.rs disagree");
    }
}
