//! The store options art-stream and art-consume share, written once.

use clap::Args;

/// Where the producer announces itself and keeps its fallback copy.
#[derive(Debug, Clone, Default, Args)]
pub struct StoreArgs {
    /// The store (`s3://BUCKET/PREFIX` or `file:///DIR`): art-stream
    /// announces itself there and writes the fallback copy; art-consume
    /// finds the producer through the announcement and reads the copy when
    /// the producer cannot be reached.
    #[arg(long, value_name = "URL", requires = "name")]
    pub store: Option<String>,

    /// The artifact's name within the run (with --store).
    #[arg(long, value_name = "NAME", requires = "store")]
    pub name: Option<String>,

    /// The run the store's keys are scoped by [default:
    /// `GITHUB_RUN_ID/GITHUB_RUN_ATTEMPT`].
    #[arg(long, value_name = "ID", requires = "store")]
    pub run_id: Option<String>,

    /// The AWS region of an S3 store [default: from the credential chain].
    #[arg(long, value_name = "REGION", requires = "store")]
    pub region: Option<String>,
}
