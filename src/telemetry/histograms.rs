//! Histograms counted into their buckets as they are recorded: a sample is
//! one bucket search and three relaxed atomic additions, and nothing is kept
//! per sample.
//!
//! The Prometheus recorder stores every raw sample until an upkeep or a
//! scrape drains them into buckets. At 100,000 requests per second that
//! drain paused a worker thread for milliseconds once a second, which was
//! the gateway's p99 latency, and the samples cost memory until drained.
//! [`Recorder`] wraps the Prometheus recorder and registers every histogram
//! here instead; [`Histograms::render`] writes them in the Prometheus text
//! format, after the Prometheus recorder's own output.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use metrics::{Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, SharedString, Unit};

/// Upper bounds of the buckets (seconds), the same for every histogram.
pub const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// One labelled histogram: a count per bucket (the last is `+Inf`), the
/// total count and the sum in nanoseconds.
#[derive(Debug, Default)]
struct Buckets {
    counts: [AtomicU64; BUCKETS.len() + 1],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl HistogramFn for Buckets {
    fn record(&self, value: f64) {
        let value = if value.is_finite() {
            value.max(0.0)
        } else {
            0.0
        };
        let slot = BUCKETS
            .iter()
            .position(|&bound| value <= bound)
            .unwrap_or(BUCKETS.len());
        self.counts[slot].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        // Saturating: 2^64 ns is 584 years of summed latency.
        self.sum_nanos
            .fetch_add((value * 1e9) as u64, Ordering::Relaxed);
    }
}

/// Every histogram of the process, by metric name, then labels.
#[derive(Debug, Default)]
pub struct Histograms {
    by_name: RwLock<BTreeMap<String, Family>>,
}

/// The histograms of one metric name.
#[derive(Debug, Default)]
struct Family {
    help: Option<SharedString>,
    by_labels: BTreeMap<Vec<(String, String)>, Arc<Buckets>>,
}

impl Histograms {
    fn register(&self, key: &Key) -> Histogram {
        let labels: Vec<(String, String)> = key
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        if let Ok(by_name) = self.by_name.read()
            && let Some(buckets) = by_name
                .get(key.name())
                .and_then(|family| family.by_labels.get(&labels))
        {
            return Histogram::from_arc(buckets.clone());
        }
        let mut by_name = self.by_name.write().unwrap_or_else(|e| e.into_inner());
        let buckets = by_name
            .entry(key.name().to_owned())
            .or_default()
            .by_labels
            .entry(labels)
            .or_default()
            .clone();
        Histogram::from_arc(buckets)
    }

    fn describe(&self, name: &str, description: SharedString) {
        let mut by_name = self.by_name.write().unwrap_or_else(|e| e.into_inner());
        by_name.entry(name.to_owned()).or_default().help = Some(description);
    }

    /// Appends every histogram with at least one labelled series to `out`,
    /// in the Prometheus text format (cumulative buckets, `_sum`, `_count`).
    pub fn render(&self, out: &mut String) {
        let by_name = self.by_name.read().unwrap_or_else(|e| e.into_inner());
        for (name, family) in by_name.iter() {
            if family.by_labels.is_empty() {
                continue;
            }
            if let Some(help) = &family.help {
                let _ = writeln!(out, "# HELP {name} {}", escape(help, false));
            }
            let _ = writeln!(out, "# TYPE {name} histogram");
            for (labels, buckets) in &family.by_labels {
                let mut base = String::new();
                for (k, v) in labels {
                    let _ = write!(base, "{k}=\"{}\",", escape(v, true));
                }
                let mut cumulative = 0;
                for (i, count) in buckets.counts.iter().enumerate() {
                    cumulative += count.load(Ordering::Relaxed);
                    match BUCKETS.get(i) {
                        Some(bound) => {
                            let _ =
                                writeln!(out, "{name}_bucket{{{base}le=\"{bound}\"}} {cumulative}");
                        }
                        None => {
                            let _ =
                                writeln!(out, "{name}_bucket{{{base}le=\"+Inf\"}} {cumulative}");
                        }
                    }
                }
                let plain = base.trim_end_matches(',');
                let sum = buckets.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
                let (open, close) = if plain.is_empty() {
                    ("", "")
                } else {
                    ("{", "}")
                };
                let _ = writeln!(out, "{name}_sum{open}{plain}{close} {sum}");
                let _ = writeln!(out, "{name}_count{open}{plain}{close} {cumulative}");
            }
        }
    }
}

/// Escapes a label value (`\`, `"`, newline) or a help text (`\`, newline).
fn escape(text: &str, quotes: bool) -> std::borrow::Cow<'_, str> {
    if !text.contains(['\\', '\n', '"']) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quotes => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.into()
}

/// The process's recorder: counters and gauges go to `inner` (Prometheus),
/// histograms to [`Histograms`].
pub struct Recorder<R> {
    /// Where counters and gauges go.
    pub inner: R,
    /// Where histograms go.
    pub histograms: Arc<Histograms>,
}

impl<R: metrics::Recorder> metrics::Recorder for Recorder<R> {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_counter(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        self.histograms.describe(key.as_str(), description);
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        self.inner.register_counter(key, metadata)
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.inner.register_gauge(key, metadata)
    }

    fn register_histogram(&self, key: &Key, _metadata: &Metadata<'_>) -> Histogram {
        self.histograms.register(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_land_in_cumulative_buckets_with_sum_and_count() {
        let histograms = Histograms::default();
        histograms.describe("t_seconds", "Time \"taken\"\nhere".into());
        let key = Key::from_parts("t_seconds", vec![metrics::Label::new("route", "/a\"b")]);
        let h = histograms.register(&key);
        for v in [0.0002, 0.0005, 0.003, 0.2, 100.0, -1.0, f64::NAN] {
            h.record(v);
        }
        // The same key gets the same series.
        histograms.register(&key).record(0.0001);
        let mut out = String::new();
        histograms.render(&mut out);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "# HELP t_seconds Time \"taken\"\\nhere");
        assert_eq!(lines[1], "# TYPE t_seconds histogram");
        let route = "route=\"/a\\\"b\"";
        // 0.0002, 0.0005, -1 (as 0), NaN (as 0), 0.0001 are <= 0.0005.
        assert!(lines.contains(&format!("t_seconds_bucket{{{route},le=\"0.0005\"}} 5").as_str()));
        assert!(lines.contains(&format!("t_seconds_bucket{{{route},le=\"0.005\"}} 6").as_str()));
        assert!(lines.contains(&format!("t_seconds_bucket{{{route},le=\"0.25\"}} 7").as_str()));
        assert!(lines.contains(&format!("t_seconds_bucket{{{route},le=\"30\"}} 7").as_str()));
        assert!(lines.contains(&format!("t_seconds_bucket{{{route},le=\"+Inf\"}} 8").as_str()));
        assert!(lines.contains(&format!("t_seconds_count{{{route}}} 8").as_str()));
        let sum = lines
            .iter()
            .find_map(|l| l.strip_prefix(&format!("t_seconds_sum{{{route}}} ")))
            .unwrap();
        assert!(
            (sum.parse::<f64>().unwrap() - 100.2038).abs() < 1e-6,
            "{sum}"
        );
        assert_eq!(lines.len(), 2 + 15 + 2);
    }

    #[test]
    fn unlabelled_and_undescribed_histograms_render_too() {
        let histograms = Histograms::default();
        histograms.describe("never_recorded_seconds", "nothing".into());
        histograms
            .register(&Key::from_name("plain_seconds"))
            .record(1.0);
        let mut out = String::new();
        histograms.render(&mut out);
        assert!(!out.contains("never_recorded"));
        assert!(out.starts_with("# TYPE plain_seconds histogram\n"));
        assert!(out.contains("plain_seconds_bucket{le=\"1\"} 1\n"));
        assert!(out.contains("plain_seconds_bucket{le=\"0.5\"} 0\n"));
        assert!(out.contains("plain_seconds_sum 1\n"));
        assert!(out.contains("plain_seconds_count 1\n"));
    }
}
