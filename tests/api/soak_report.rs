//! The soak's figures (`tests/api/soak.rs`): samples of answers and of
//! the server's gauges, and the table printed per window.

use std::collections::BTreeMap;

/// One answer: its route, when it came (seconds into the soak), how long
/// it took and its status.
pub(crate) struct Sample {
    pub(crate) route: &'static str,
    pub(crate) at: f64,
    pub(crate) ms: f64,
    pub(crate) status: u16,
}

/// One window's server figures.
pub(crate) struct Gauge {
    pub(crate) at: f64,
    pub(crate) rss_kb: u64,
    /// heap and other private memory
    pub(crate) anon_kb: u64,
    /// file pages mapped in: the binary's code and the database's mmap
    pub(crate) file_kb: u64,
    pub(crate) fds: usize,
    pub(crate) wal_bytes: u64,
}

pub(crate) fn gauge(pid: u32, wal: &std::path::Path, at: f64) -> Gauge {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    Gauge {
        at,
        rss_kb: kb("VmRSS:"),
        anon_kb: kb("RssAnon:"),
        file_kb: kb("RssFile:"),
        fds: std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count),
        wal_bytes: std::fs::metadata(wal).map_or(0, |m| m.len()),
    }
}

fn p99(mut ms: Vec<f64>) -> f64 {
    if ms.is_empty() {
        return 0.0;
    }
    ms.sort_by(f64::total_cmp);
    ms[((ms.len() - 1) as f64 * 0.99).round() as usize]
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// Two tables: each route's p99 per window (a row a route), then the
/// throughput and the server's gauges per window (a row a window).
pub(crate) fn report(samples: &[Sample], gauges: &[Gauge], window: f64) {
    let mut by_route: BTreeMap<&str, Vec<&Sample>> = BTreeMap::new();
    for s in samples {
        by_route.entry(s.route).or_default().push(s);
    }
    let mut header = format!("{:<18} {:>9}", "p99 ms per window", "requests");
    for g in gauges {
        header.push_str(&format!(" {:>6}", format!("{:.0}s", g.at)));
    }
    println!("{header} {:>7}", "all");
    for (route, list) in &by_route {
        let mut line = format!("{route:<18} {:>9}", list.len());
        for g in gauges {
            let ms = list
                .iter()
                .filter(|s| s.at > g.at - window && s.at <= g.at)
                .map(|s| s.ms)
                .collect();
            line.push_str(&format!(" {:>6.1}", p99(ms)));
        }
        println!("{line} {:>7.1}", p99(list.iter().map(|s| s.ms).collect()));
    }
    println!(
        "{:>7} {:>7} {:>8} {:>8} {:>8} {:>4} {:>7}",
        "window", "req/s", "RSS MB", "anon MB", "file MB", "fds", "WAL MB"
    );
    for g in gauges {
        let n = samples
            .iter()
            .filter(|s| s.at > g.at - window && s.at <= g.at)
            .count();
        println!(
            "{:>6.0}s {:>7.0} {:>8.1} {:>8.1} {:>8.1} {:>4} {:>7.1}",
            g.at,
            n as f64 / window,
            mb(g.rss_kb),
            mb(g.anon_kb),
            mb(g.file_kb),
            g.fds,
            g.wal_bytes as f64 / 1_048_576.0
        );
    }
}
