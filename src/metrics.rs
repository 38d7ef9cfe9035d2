//! Prometheus text metrics: request counts by status class, a latency
//! histogram and log-in outcomes. Counters are plain atomics.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

pub struct Metrics {
    started: Instant,
    by_class: [AtomicU64; 5],
    buckets: [AtomicU64; BUCKETS.len()],
    duration_micros: AtomicU64,
    count: AtomicU64,
    logins_ok: AtomicU64,
    logins_failed: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            by_class: Default::default(),
            buckets: Default::default(),
            duration_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
            logins_ok: AtomicU64::new(0),
            logins_failed: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    pub fn request(&self, status: u16, elapsed: Duration) {
        let class = usize::from((status / 100).clamp(1, 5)) - 1;
        self.by_class[class].fetch_add(1, Relaxed);
        let secs = elapsed.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.buckets[i].fetch_add(1, Relaxed);
            }
        }
        self.duration_micros
            .fetch_add(elapsed.as_micros() as u64, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }

    pub fn login(&self, ok: bool) {
        if ok {
            &self.logins_ok
        } else {
            &self.logins_failed
        }
        .fetch_add(1, Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP colloquy_http_requests_total HTTP requests answered, by status class."
        );
        let _ = writeln!(out, "# TYPE colloquy_http_requests_total counter");
        for (i, c) in self.by_class.iter().enumerate() {
            let _ = writeln!(
                out,
                "colloquy_http_requests_total{{class=\"{}xx\"}} {}",
                i + 1,
                c.load(Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP colloquy_http_request_duration_seconds Time to answer HTTP requests."
        );
        let _ = writeln!(
            out,
            "# TYPE colloquy_http_request_duration_seconds histogram"
        );
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "colloquy_http_request_duration_seconds_bucket{{le=\"{b}\"}} {}",
                self.buckets[i].load(Relaxed)
            );
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(
            out,
            "colloquy_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "colloquy_http_request_duration_seconds_sum {}",
            self.duration_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "colloquy_http_request_duration_seconds_count {count}");
        let _ = writeln!(
            out,
            "# HELP colloquy_logins_total Log-in attempts, by result."
        );
        let _ = writeln!(out, "# TYPE colloquy_logins_total counter");
        let _ = writeln!(
            out,
            "colloquy_logins_total{{result=\"ok\"}} {}",
            self.logins_ok.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "colloquy_logins_total{{result=\"failed\"}} {}",
            self.logins_failed.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP colloquy_uptime_seconds Seconds since the process started."
        );
        let _ = writeln!(out, "# TYPE colloquy_uptime_seconds gauge");
        let _ = writeln!(
            out,
            "colloquy_uptime_seconds {}",
            self.started.elapsed().as_secs()
        );
        out
    }
}
