//! Whose runners: an organisation's or one repository's, names checked.

use crate::{GitHubError, PUBLIC_API_URL};

/// Whose runners: an organisation's or one repository's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    Org(String),
    Repo { owner: String, repo: String },
}

impl Scope {
    /// An organisation, its name checked.
    pub fn org(name: &str) -> Result<Scope, GitHubError> {
        check_segment("organisation", name)?;
        Ok(Scope::Org(name.to_owned()))
    }

    /// `OWNER/REPO`.
    pub fn repo(spec: &str) -> Result<Scope, GitHubError> {
        let (owner, repo) = spec.split_once('/').ok_or_else(|| {
            GitHubError::Usage(format!("repository {spec:?}: expected OWNER/REPO"))
        })?;
        check_segment("repository owner", owner)?;
        check_segment("repository name", repo)?;
        Ok(Scope::Repo {
            owner: owner.to_owned(),
            repo: repo.to_owned(),
        })
    }

    /// The API path this scope's resources live under.
    #[must_use]
    pub fn api_prefix(&self) -> String {
        match self {
            Scope::Org(org) => format!("/orgs/{org}"),
            Scope::Repo { owner, repo } => format!("/repos/{owner}/{repo}"),
        }
    }

    /// The URL a runner registers against (`config.sh --url`), on the web
    /// host of `api_url` (api.github.com → github.com; a GitHub Enterprise
    /// Server's `/api/v3` dropped).
    #[must_use]
    pub fn runner_url(&self, api_url: &str) -> String {
        let api = api_url.trim_end_matches('/');
        let web = if api == PUBLIC_API_URL {
            "https://github.com".to_owned()
        } else {
            api.trim_end_matches("/api/v3").to_owned()
        };
        match self {
            Scope::Org(org) => format!("{web}/{org}"),
            Scope::Repo { owner, repo } => format!("{web}/{owner}/{repo}"),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Org(org) => write!(f, "organisation {org}"),
            Scope::Repo { owner, repo } => write!(f, "repository {owner}/{repo}"),
        }
    }
}

/// GitHub's names are letters, digits, `-`, `_` and `.`; anything else
/// would change the request path.
fn check_segment(what: &str, value: &str) -> Result<(), GitHubError> {
    let ok = !value.is_empty()
        && value != "."
        && value != ".."
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(GitHubError::Usage(format!(
            "{what} {value:?}: expected letters, digits, '-', '_' or '.'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_checked_and_mapped() {
        assert_eq!(Scope::org("acme").unwrap().api_prefix(), "/orgs/acme");
        let repo = Scope::repo("acme/app.rs").unwrap();
        assert_eq!(repo.api_prefix(), "/repos/acme/app.rs");
        assert_eq!(
            repo.runner_url(PUBLIC_API_URL),
            "https://github.com/acme/app.rs"
        );
        assert_eq!(
            Scope::org("acme")
                .unwrap()
                .runner_url("https://ghe.example.com/api/v3/"),
            "https://ghe.example.com/acme"
        );
        for bad in ["acme", "acme/", "/app", "a/b/c", "a b/c", "../x"] {
            assert!(Scope::repo(bad).is_err(), "{bad}");
        }
        assert!(Scope::org("ac?me").is_err());
    }
}
