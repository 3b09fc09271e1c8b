//! Exit codes of `ci-matrix`, documented in the README. They are a contract:
//! workflows branch on them.

/// What a run of `ci-matrix` ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// The matrix (or the requested output) was written.
    Ok = 0,
    /// Something unexpected: a bug, or an I/O failure writing the output.
    Internal = 1,
    /// The command line is wrong (clap uses the same code).
    Usage = 2,
    /// A manifest, graph file or changed-file list could not be read or parsed.
    BadInput = 3,
    /// `--fail-on-cycle` was given and the graph has a dependency cycle.
    Cycle = 4,
    /// A git command failed: unknown revision, not a repository.
    Git = 5,
    /// The outputs would exceed GitHub's 1 MB job-output limit (shard with
    /// `--max-jobs`, or use `--output-file`).
    OutputTooLarge = 6,
    /// `ci-matrix gate`: a needed job failed, was cancelled, or was skipped
    /// though packages were affected.
    GateFailed = 7,
    /// `ci-matrix graph --check`: the graph read from the files and a build
    /// tool's answer differ (each difference is printed).
    GraphDiffers = 8,
    /// `ci-matrix observe`: the command could not be started (as a shell
    /// answers a command it cannot run). Otherwise observe exits with the
    /// command's own status.
    NotRun = 127,
}
