//! Scale rules: which instance types to launch for how deep a queue.

/// `depth>N:TYPE[,TYPE…]` (or `>=`): when the queue is that deep, launch
/// these types. Rules are tried in order; the first match wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleRule {
    pub at_least: usize,
    pub instance_types: Vec<String>,
    pub text: String,
}

impl std::str::FromStr for ScaleRule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad =
            |why: &str| format!("scale rule {text:?}: {why} (expected e.g. 'depth>5:c7i.4xlarge')");
        let (condition, types) = text.split_once(':').ok_or_else(|| bad("no ':'"))?;
        let condition = condition
            .trim()
            .strip_prefix("depth")
            .ok_or_else(|| bad("the condition must start with 'depth'"))?
            .trim_start();
        let (inclusive, number) = if let Some(n) = condition.strip_prefix(">=") {
            (true, n)
        } else if let Some(n) = condition.strip_prefix('>') {
            (false, n)
        } else {
            return Err(bad("expected '>' or '>='"));
        };
        let n: usize = number
            .trim()
            .parse()
            .map_err(|_| bad("the depth is not a whole number"))?;
        let instance_types: Vec<String> = types
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        if instance_types.is_empty() {
            return Err(bad("no instance type"));
        }
        Ok(ScaleRule {
            at_least: if inclusive { n } else { n + 1 },
            instance_types,
            text: text.to_owned(),
        })
    }
}

/// The first rule the depth satisfies.
#[must_use]
pub(crate) fn choose(rules: &[ScaleRule], depth: usize) -> Option<&ScaleRule> {
    rules.iter().find(|r| depth >= r.at_least)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_rules_first_match_wins() {
        let rules: Vec<ScaleRule> = ["depth>20:c7i.8xlarge", "depth>=6:c7i.4xlarge,m7i.4xlarge"]
            .iter()
            .map(|r| r.parse().unwrap())
            .collect();
        assert_eq!(choose(&rules, 5), None);
        assert_eq!(
            choose(&rules, 6).unwrap().instance_types,
            ["c7i.4xlarge", "m7i.4xlarge"]
        );
        assert_eq!(choose(&rules, 21).unwrap().instance_types, ["c7i.8xlarge"]);
        assert_eq!(choose(&rules, 20).unwrap().at_least, 6);
        for bad in [
            "depth>5",
            "depth<5:x",
            "size>5:x",
            "depth>five:x",
            "depth>5:",
        ] {
            assert!(bad.parse::<ScaleRule>().is_err(), "{bad}");
        }
    }
}
