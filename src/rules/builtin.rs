//! The default rule files, embedded so the binary works with no files beside it.
//!
//! Adding a file to `patterns/` means adding it here; the test below fails otherwise.

/// `(path relative to patterns/, contents)`, in sorted path order.
pub(crate) const FILES: &[(&str, &str)] = &[
    (
        "pii/cn_id.toml",
        include_str!("../../patterns/pii/cn_id.toml"),
    ),
    (
        "pii/email.toml",
        include_str!("../../patterns/pii/email.toml"),
    ),
    (
        "pii/finance.toml",
        include_str!("../../patterns/pii/finance.toml"),
    ),
    (
        "pii/messaging.toml",
        include_str!("../../patterns/pii/messaging.toml"),
    ),
    (
        "pii/network.toml",
        include_str!("../../patterns/pii/network.toml"),
    ),
    (
        "pii/passport.toml",
        include_str!("../../patterns/pii/passport.toml"),
    ),
    (
        "pii/person.toml",
        include_str!("../../patterns/pii/person.toml"),
    ),
    (
        "pii/phone.toml",
        include_str!("../../patterns/pii/phone.toml"),
    ),
    (
        "pii/table.toml",
        include_str!("../../patterns/pii/table.toml"),
    ),
    (
        "secrets/aws.toml",
        include_str!("../../patterns/secrets/aws.toml"),
    ),
    (
        "secrets/azure.toml",
        include_str!("../../patterns/secrets/azure.toml"),
    ),
    (
        "secrets/generic.toml",
        include_str!("../../patterns/secrets/generic.toml"),
    ),
    (
        "secrets/github.toml",
        include_str!("../../patterns/secrets/github.toml"),
    ),
    (
        "secrets/jwt.toml",
        include_str!("../../patterns/secrets/jwt.toml"),
    ),
    (
        "secrets/private_key.toml",
        include_str!("../../patterns/secrets/private_key.toml"),
    ),
    (
        "secrets/tokens.toml",
        include_str!("../../patterns/secrets/tokens.toml"),
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
