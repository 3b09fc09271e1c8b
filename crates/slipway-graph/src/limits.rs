//! Bounds on everything a pull request controls: a manifest, lockfile or
//! workspace file larger than these, or YAML that expands or nests beyond
//! them, is refused rather than read. JSON nesting is bounded by
//! `serde_json` (128 levels) and TOML nesting by `toml`.

/// Largest manifest, workspace file or graph file read.
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;
/// Largest lockfile read, at either revision.
pub const MAX_LOCKFILE_BYTES: u64 = 64 << 20;
/// Most YAML nodes a document may hold, aliases expanded, beyond one per
/// byte of its text.
pub const MAX_YAML_NODES: usize = crate::yaml::MAX_NODES;
/// Deepest YAML nesting.
pub const MAX_YAML_DEPTH: usize = crate::yaml::MAX_DEPTH;
