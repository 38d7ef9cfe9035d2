//! Prometheus metrics through the `metrics` crate and its Prometheus
//! recorder. Each `AppState` owns its own recorder (no global one), so
//! tests that run side by side never count each other's requests.

use std::time::{Duration, Instant};

use metrics::{Key, KeyName, Label, Level, Metadata, Recorder, SharedString};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

const REQUESTS: &str = "colloquy_http_requests_total";
const DURATION: &str = "colloquy_http_request_duration_seconds";
const LOGINS: &str = "colloquy_logins_total";
const UPTIME: &str = "colloquy_uptime_seconds";
const JOBS: &str = "colloquy_jobs_runs_total";
const OUTBOX: &str = "colloquy_mail_outbox";
const PROVIDER_CALLS: &str = "colloquy_provider_calls_total";
const BOOKINGS: &str = "colloquy_bookings_total";

const META: Metadata<'static> = Metadata::new("colloquy", Level::INFO, Some(module_path!()));

pub struct Metrics {
    started: Instant,
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// The per-request handles, registered once: a request only adds to
    /// atomics (no key built, no map looked up, nothing allocated).
    requests_by_class: [metrics::Counter; 5],
    request_duration: metrics::Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        // Only an empty bucket list is refused, and ours is not empty.
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DURATION.into()), &BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let describe = |name: &'static str, help: &'static str| {
            (KeyName::from(name), SharedString::from(help))
        };
        for (name, help) in [
            describe(REQUESTS, "HTTP requests answered, by status class."),
            describe(LOGINS, "Log-in attempts, by result."),
            describe(JOBS, "Scheduled job runs, by job and outcome."),
            describe(
                PROVIDER_CALLS,
                "Calls to data providers, by provider and outcome.",
            ),
            describe(BOOKINGS, "Booking requests, by outcome."),
        ] {
            recorder.describe_counter(name, None, help);
        }
        recorder.describe_histogram(
            KeyName::from(DURATION),
            None,
            "Time to answer HTTP requests.".into(),
        );
        recorder.describe_gauge(
            KeyName::from(UPTIME),
            None,
            "Seconds since the process started.".into(),
        );
        recorder.describe_gauge(
            KeyName::from(OUTBOX),
            None,
            "Messages in the mail outbox, by status.".into(),
        );
        let handle = recorder.handle();
        let requests_by_class = ["1xx", "2xx", "3xx", "4xx", "5xx"].map(|class| {
            recorder.register_counter(&key(REQUESTS, &[("class", class.into())]), &META)
        });
        let request_duration = recorder.register_histogram(&key(DURATION, &[]), &META);
        Self {
            started: Instant::now(),
            recorder,
            handle,
            requests_by_class,
            request_duration,
        }
    }
}

fn key(name: &'static str, labels: &[(&'static str, String)]) -> Key {
    let labels: Vec<Label> = labels
        .iter()
        .map(|(k, v)| Label::new(*k, v.clone()))
        .collect();
    Key::from_parts(name, labels)
}

impl Metrics {
    fn count(&self, name: &'static str, labels: &[(&'static str, String)]) {
        self.recorder
            .register_counter(&key(name, labels), &META)
            .increment(1);
    }

    pub fn request(&self, status: u16, elapsed: Duration) {
        let class = usize::from((status / 100).clamp(1, 5)) - 1;
        self.requests_by_class[class].increment(1);
        self.request_duration.record(elapsed.as_secs_f64());
    }

    pub fn login(&self, ok: bool) {
        let result = if ok { "ok" } else { "failed" };
        self.count(LOGINS, &[("result", result.into())]);
    }

    /// A scheduled job ran (`ok` or `error`).
    pub fn job_run(&self, job: &'static str, ok: bool) {
        let outcome = if ok { "ok" } else { "error" };
        self.count(JOBS, &[("job", job.into()), ("outcome", outcome.into())]);
    }

    /// A provider call was made or answered from the cache (`ok`,
    /// `not_found`, `error`, `cached`).
    pub fn provider_call(&self, provider: &'static str, outcome: &'static str) {
        self.count(
            PROVIDER_CALLS,
            &[("provider", provider.into()), ("outcome", outcome.into())],
        );
    }

    /// A booking request ended: `created`, `replayed`, or the error code.
    pub fn booking(&self, outcome: &str) {
        self.count(BOOKINGS, &[("outcome", outcome.to_string())]);
    }

    /// The outbox's current size per status, read when metrics are scraped.
    pub fn set_mail_outbox(&self, counts: &[(String, i64)]) {
        for (status, n) in counts {
            self.recorder
                .register_gauge(&key(OUTBOX, &[("status", status.clone())]), &META)
                .set(*n as f64);
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.recorder
            .register_gauge(&key(UPTIME, &[]), &META)
            .set(self.started.elapsed().as_secs() as f64);
        self.handle.render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_keeps_the_metric_names() {
        let m = Metrics::default();
        m.request(200, Duration::from_millis(3));
        m.request(404, Duration::from_millis(30));
        m.login(false);
        m.job_run("mail", true);
        m.provider_call("openalex", "ok");
        m.booking("created");
        m.set_mail_outbox(&[("held".into(), 2)]);
        let text = m.render();
        for needle in [
            "colloquy_http_requests_total{class=\"2xx\"} 1",
            "colloquy_http_requests_total{class=\"4xx\"} 1",
            "colloquy_http_request_duration_seconds_bucket{le=\"0.005\"} 1",
            "colloquy_http_request_duration_seconds_count 2",
            "colloquy_logins_total{result=\"failed\"} 1",
            "colloquy_jobs_runs_total{job=\"mail\",outcome=\"ok\"} 1",
            "colloquy_provider_calls_total{provider=\"openalex\",outcome=\"ok\"} 1",
            "colloquy_bookings_total{outcome=\"created\"} 1",
            "colloquy_mail_outbox{status=\"held\"} 2",
            "# TYPE colloquy_uptime_seconds gauge",
            "# HELP colloquy_http_requests_total HTTP requests answered, by status class.",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
    }
}
