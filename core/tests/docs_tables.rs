//! The shared tables of the docs are the core's constants: `docs/defaults.md` (defaults and
//! presets) and `docs/metrics.md` (metric families). Each table sits between
//! `<!-- BEGIN name -->` and `<!-- END name -->`; this test renders it from the core and
//! fails on any drift. `CBREAKER_WRITE_DOCS=1` rewrites the tables instead.

use std::fmt::Write as _;
use std::path::PathBuf;

use cbreaker::{Config, HealthStatus, RejectReason, State, WindowKind, metrics};

fn docs(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../docs")
        .join(file)
}

fn window(c: &Config) -> String {
    match c.window {
        WindowKind::Count { size } => format!("count {size}"),
        WindowKind::Time { duration, buckets } => format!("time {} ms / {buckets}", duration.0),
        WindowKind::Consecutive => "consecutive".into(),
    }
}

fn defaults_table() -> String {
    let mut columns: Vec<(&str, Config)> = vec![("default", Config::default())];
    for name in Config::PRESETS {
        columns.push((name, Config::preset(name).expect("listed presets exist")));
    }
    type Field = (&'static str, fn(&Config) -> String);
    let fields: [Field; 14] = [
        ("window", window),
        ("failure_rate_threshold", |c| {
            c.failure_rate_threshold.to_string()
        }),
        ("slow_call_rate_threshold", |c| {
            c.slow_call_rate_threshold.to_string()
        }),
        ("slow_call_duration_ms", |c| {
            c.slow_call_duration.0.to_string()
        }),
        ("consecutive_failures", |c| {
            c.consecutive_failures.to_string()
        }),
        ("minimum_calls", |c| c.minimum_calls.to_string()),
        ("open_duration_ms", |c| c.open_duration.0.to_string()),
        ("open_duration_max_ms", |c| {
            c.open_duration_max.0.to_string()
        }),
        ("open_duration_multiplier", |c| {
            c.open_duration_multiplier.to_string()
        }),
        ("jitter_percent", |c| c.jitter_percent.to_string()),
        ("jitter_seed", |c| c.jitter_seed.to_string()),
        ("half_open_max_calls", |c| c.half_open_max_calls.to_string()),
        ("success_threshold", |c| c.success_threshold.to_string()),
        ("half_open_max_wait_ms", |c| {
            c.half_open_max_wait.0.to_string()
        }),
    ];
    let mut out = String::from("| field |");
    for (name, _) in &columns {
        let _ = write!(out, " `{name}` |");
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(columns.len()));
    out.push('\n');
    for (field, get) in fields {
        let _ = write!(out, "| `{field}` |");
        for (_, c) in &columns {
            let _ = write!(out, " {} |", get(c));
        }
        out.push('\n');
    }
    out
}

fn metrics_table() -> String {
    families_table(&metrics::FAMILIES)
}

fn families_table(families: &[metrics::Family]) -> String {
    let mut out = String::from("| family | type | unit | labels | help |\n|---|---|---|---|---|\n");
    for f in families {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            f.name,
            f.kind.name(),
            if f.unit.is_empty() { "—" } else { f.unit },
            f.labels
                .iter()
                .map(|l| format!("`{l}`"))
                .collect::<Vec<_>>()
                .join(", "),
            f.help
        );
    }
    out
}

fn values_table() -> String {
    let list = |v: Vec<&str>| {
        v.iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = String::from("| label | values |\n|---|---|\n");
    let _ = writeln!(
        out,
        "| `state` | {} |",
        list(State::ALL.iter().map(|s| s.name()).collect())
    );
    let _ = writeln!(out, "| `outcome` | {} |", list(metrics::OUTCOMES.to_vec()));
    let _ = writeln!(
        out,
        "| rejection `reason` | {} |",
        list(RejectReason::ALL.iter().map(|r| r.name()).collect())
    );
    let _ = writeln!(
        out,
        "| health | {} |",
        list(HealthStatus::ALL.iter().map(|h| h.name()).collect())
    );
    let buckets: Vec<String> = metrics::DURATION_BUCKETS
        .iter()
        .map(ToString::to_string)
        .collect();
    let _ = writeln!(out, "| `le` (seconds) | {} |", buckets.join(", "));
    out
}

fn list(v: &[&str]) -> String {
    v.iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn resilience4j_table() -> String {
    let mut out = String::from(
        "| resilience4j family | type | labels | reads (cbreaker family) | help |\n|---|---|---|---|---|\n",
    );
    for (f, (name, from, reads)) in metrics::resilience4j::FAMILIES
        .iter()
        .zip(metrics::resilience4j::MAPPING)
    {
        assert_eq!(f.name, name, "MAPPING follows FAMILIES");
        let from = if from == "—" {
            String::from("the window")
        } else {
            format!("`{from}`")
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {reads} ({from}) | {} |",
            f.name,
            f.kind.name(),
            list(f.labels),
            f.help
        );
    }
    out
}

fn otel_table() -> String {
    let mut out = String::from(
        "| instrument | kind | unit | attributes | description |\n|---|---|---|---|---|\n",
    );
    for i in metrics::otel::INSTRUMENTS {
        let _ = writeln!(
            out,
            "| `{}` | {} | `{}` | {} | {} |",
            i.name,
            i.kind.name(),
            i.unit,
            list(i.attributes),
            i.description
        );
    }
    let _ = writeln!(
        out,
        "\nMeter `{}`; `{}` values: `{}`.",
        metrics::otel::METER_NAME,
        metrics::otel::ATTR_CAUSE,
        cbreaker::Cause::ALL
            .iter()
            .map(|c| c.name())
            .collect::<Vec<_>>()
            .join("`, `")
    );
    out
}

/// Checks (or rewrites) the table `name` of `file`.
fn check(file: &str, name: &str, table: &str) {
    let path = docs(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (begin, end) = (
        format!("<!-- BEGIN {name} -->\n"),
        format!("<!-- END {name} -->"),
    );
    let a = text
        .find(&begin)
        .unwrap_or_else(|| panic!("{file}: no {begin:?}"))
        + begin.len();
    let b = text[a..]
        .find(&end)
        .unwrap_or_else(|| panic!("{file}: no {end:?}"))
        + a;
    if std::env::var_os("CBREAKER_WRITE_DOCS").is_some() {
        let new = format!("{}{table}{}", &text[..a], &text[b..]);
        std::fs::write(&path, new).expect("write docs");
        return;
    }
    assert_eq!(
        &text[a..b],
        table,
        "{file}: table {name} differs from the core; CBREAKER_WRITE_DOCS=1 cargo test -p cbreaker --test docs_tables rewrites it"
    );
}

#[test]
fn defaults_and_presets_table_is_the_cores() {
    check("defaults.md", "defaults", &defaults_table());
}

#[test]
fn metric_families_table_is_the_cores() {
    check("metrics.md", "families", &metrics_table());
    check("metrics.md", "values", &values_table());
    check("metrics.md", "resilience4j", &resilience4j_table());
    check("metrics.md", "otel", &otel_table());
    check(
        "fleet.md",
        "fleet-families",
        &families_table(&metrics::fleet::FAMILIES),
    );
}
