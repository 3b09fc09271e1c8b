//! What one `serve` process holds in memory: counters for `/metrics`, the
//! deliveries already seen, the jobs it is launching for. None of it is
//! needed to be correct after a restart: EC2's tags and GitHub's API are
//! the state; this only spares requests and answers duplicates early.

use std::collections::{BTreeMap, HashSet, VecDeque};

use slipway_cli::metrics::Metrics;

/// Deliveries remembered for deduplication (GitHub redelivers by hand or
/// through its API; a replica sees the others' through the launch lock).
const DELIVERIES_KEPT: usize = 10_000;

#[derive(Debug, Default)]
pub(crate) struct State {
    deliveries: VecDeque<String>,
    seen: HashSet<String>,
    /// Jobs a launch is under way for, in this process.
    pub(crate) launching: HashSet<u64>,
    /// Warm instances a launch is claiming, in this process.
    pub(crate) claiming: HashSet<String>,
    /// Queued jobs by label set (sorted, comma-joined), from the last
    /// reconcile and the webhooks since.
    pub(crate) queued: BTreeMap<u64, String>,
    pub(crate) paused: bool,
    pub(crate) deliveries_by_result: BTreeMap<&'static str, u64>,
    /// Launches by (pool, capacity, path).
    pub(crate) launches: BTreeMap<(String, &'static str, &'static str), u64>,
    pub(crate) launch_failures: BTreeMap<String, u64>,
    pub(crate) interruptions: BTreeMap<String, u64>,
    /// Interruptions by (instance type, zone, action), the origin
    /// article's `runner_termination_events`.
    pub(crate) terminations: BTreeMap<(String, String, String), u64>,
    pub(crate) reruns: u64,
    /// Pools whose breaker is open, as of the last look.
    pub(crate) breaker_open: BTreeMap<String, bool>,
    /// Runners by state (`idle`, `busy`, `offline`), as of the last reconcile.
    pub(crate) runners: BTreeMap<&'static str, u64>,
    pub(crate) warm: BTreeMap<String, u64>,
    pub(crate) scaled_down: u64,
    pub(crate) kept_busy: u64,
    pub(crate) reconciles: BTreeMap<&'static str, u64>,
    pub(crate) last_reconcile_seconds: Option<f64>,
    /// The spot price in effect for each spot pool's instance types, by
    /// (instance type, zone), USD per hour, and when it was looked up.
    pub(crate) prices: BTreeMap<(String, String), f64>,
    pub(crate) prices_at: Option<std::time::Instant>,
}

impl State {
    /// Records a delivery id; false when it was seen already.
    pub(crate) fn first_delivery(&mut self, id: &str) -> bool {
        if self.seen.contains(id) {
            return false;
        }
        if self.deliveries.len() == DELIVERIES_KEPT
            && let Some(old) = self.deliveries.pop_front()
        {
            self.seen.remove(&old);
        }
        self.deliveries.push_back(id.to_owned());
        self.seen.insert(id.to_owned());
        true
    }

    pub(crate) fn delivery(&mut self, result: &'static str) {
        *self.deliveries_by_result.entry(result).or_default() += 1;
    }

    /// The Prometheus exposition of this state.
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    pub(crate) fn metrics(&self, connections: super::http::Counts) -> String {
        let mut m = Metrics::new("spot-leaser");
        m.gauge(
            "slipway_serve_connections_open",
            "HTTP connections open now.",
            &[],
            connections.open as f64,
        );
        m.counter(
            "slipway_serve_connections_evicted_total",
            "Connections closed before sending a whole request, to make room.",
            &[],
            connections.evicted as f64,
        );
        m.counter(
            "slipway_serve_connections_refused_total",
            "Connections refused (503) while every connection was in a request.",
            &[],
            connections.refused as f64,
        );
        let mut depth: BTreeMap<&str, u64> = BTreeMap::new();
        for labels in self.queued.values() {
            *depth.entry(labels.as_str()).or_default() += 1;
        }
        for (labels, n) in depth {
            m.gauge(
                "github_actions_job_queue_depth",
                "Queued self-hosted jobs, by the label set they ask for.",
                &[("labels", labels)],
                n as f64,
            );
        }
        for (state, n) in &self.runners {
            m.gauge(
                "slipway_serve_runners",
                "Our runners on GitHub by state, as of the last reconcile.",
                &[("state", state)],
                *n as f64,
            );
        }
        for ((pool, capacity, path), n) in &self.launches {
            m.counter(
                "slipway_serve_launches_total",
                "Instances launched (cold) or started (warm) for jobs.",
                &[("pool", pool), ("capacity", capacity), ("path", path)],
                *n as f64,
            );
        }
        for (pool, n) in &self.launch_failures {
            m.counter(
                "slipway_serve_launch_failures_total",
                "Launches for a job that failed.",
                &[("pool", pool)],
                *n as f64,
            );
        }
        for (pool, n) in &self.interruptions {
            m.counter(
                "slipway_serve_interruptions_total",
                "Jobs ended by a spot interruption, by pool.",
                &[("pool", pool)],
                *n as f64,
            );
        }
        for ((instance_type, zone), price) in &self.prices {
            m.gauge(
                "spot_price_current",
                "The pool's spot price in effect now, USD per hour.",
                &[
                    ("instance_type", instance_type),
                    ("availability_zone", zone),
                ],
                *price,
            );
        }
        self.counters(&mut m);
        m.render()
    }

    /// What happened since the start, beside the launches.
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    fn counters(&self, m: &mut Metrics) {
        for ((instance_type, zone, action), n) in &self.terminations {
            m.counter(
                "runner_termination_events_total",
                "Runners ended by a spot interruption, by instance type, zone and EC2's action.",
                &[
                    ("instance_type", instance_type),
                    ("availability_zone", zone),
                    ("action", action),
                ],
                *n as f64,
            );
        }
        m.counter(
            "slipway_serve_reruns_total",
            "Interrupted jobs re-run.",
            &[],
            self.reruns as f64,
        );
        for (pool, open) in &self.breaker_open {
            m.gauge(
                "slipway_serve_breaker_open",
                "1 while the pool's circuit breaker stops spot launches in it.",
                &[("pool", pool)],
                f64::from(u8::from(*open)),
            );
        }
        for (pool, n) in &self.warm {
            m.gauge(
                "slipway_serve_warm_instances",
                "Warm (stopped, ready) instances by pool.",
                &[("pool", pool)],
                *n as f64,
            );
        }
        for (result, n) in &self.deliveries_by_result {
            m.counter(
                "slipway_serve_webhook_deliveries_total",
                "Webhook deliveries by result.",
                &[("result", result)],
                *n as f64,
            );
        }
        m.counter(
            "slipway_serve_scaled_down_total",
            "Idle runners removed and their instances terminated.",
            &[],
            self.scaled_down as f64,
        );
        m.counter(
            "slipway_serve_scale_down_kept_busy_total",
            "Idle runners GitHub refused to remove because a job had started.",
            &[],
            self.kept_busy as f64,
        );
        for (result, n) in &self.reconciles {
            m.counter(
                "slipway_serve_reconciles_total",
                "Reconcile passes by result.",
                &[("result", result)],
                *n as f64,
            );
        }
        if let Some(s) = self.last_reconcile_seconds {
            m.gauge(
                "slipway_serve_reconcile_duration_seconds",
                "How long the last reconcile pass took.",
                &[],
                s,
            );
        }
        m.gauge(
            "slipway_serve_paused",
            "1 while scale-up is paused (POST /pause).",
            &[],
            f64::from(u8::from(self.paused)),
        );
    }
}

/// The label set a job is counted under: sorted, lower-case, its pinning
/// label aside.
pub(crate) fn label_set(labels: &[String]) -> String {
    let mut set: Vec<String> = labels
        .iter()
        .filter(|l| !super::config::is_pinning_label(l))
        .map(|l| l.to_ascii_lowercase())
        .collect();
    set.sort();
    set.dedup();
    set.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_are_deduplicated_within_a_bound() {
        let mut s = State::default();
        assert!(s.first_delivery("a"));
        assert!(!s.first_delivery("a"));
        for i in 0..DELIVERIES_KEPT {
            s.first_delivery(&i.to_string());
        }
        assert!(s.first_delivery("a"), "forgotten once 10,000 newer came");
        assert!(s.seen.len() <= DELIVERIES_KEPT);
    }

    #[test]
    fn queue_depth_is_by_label_set() {
        let mut s = State::default();
        let l = |v: &[&str]| label_set(&v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        s.queued
            .insert(1, l(&["self-hosted", "K8s", "slipway-job-1-1-0"]));
        s.queued.insert(2, l(&["k8s", "self-hosted"]));
        s.queued.insert(3, l(&["self-hosted"]));
        let text = s.metrics(super::super::http::Counts::default());
        assert!(
            text.contains("github_actions_job_queue_depth{labels=\"k8s,self-hosted\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("github_actions_job_queue_depth{labels=\"self-hosted\"} 1\n"));
    }
}
