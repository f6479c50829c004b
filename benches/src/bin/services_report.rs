//! `services_report [CRITERION_DIR]`: the table of `benches/services.rs` (default directory
//! `target/criterion`): each row's time per call, and the ratios against the targets.
//! The figure per row is criterion's median (robust on a shared machine).

use std::path::Path;

/// Median nanoseconds per iteration of `group/bench`, if it ran.
fn median(dir: &Path, group: &str, bench: &str) -> Option<f64> {
    let path = dir
        .join(group)
        .join(bench)
        .join("new")
        .join("estimates.json");
    let json = std::fs::read_to_string(path).ok()?;
    let at = json.find("\"median\":")?;
    let rest = &json[at..];
    let p = rest.find("\"point_estimate\":")? + "\"point_estimate\":".len();
    let num: String = rest[p..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        .collect();
    num.parse().ok()
}

fn ns(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{v:.1} ns"))
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/criterion".into());
    let dir = Path::new(&dir);
    let get = |g: &str, b: &str| median(dir, g, b);

    println!("| row | time per call |");
    println!("|---|---:|");
    for (g, b) in [
        ("clock", "instant_now"),
        ("clock", "monotonic_coarse"),
        ("clock", "cbreaker_clock_now"),
        ("call_success", "cbreaker_core_now_given"),
        ("call_success", "cbreaker_call"),
        ("call_success", "cbreaker_service_call"),
        ("call_success", "cbreaker_service_call_untimed"),
        ("call_success", "recloser"),
        ("call_success", "failsafe"),
        ("call_reject", "cbreaker_core_now_given"),
        ("call_reject", "cbreaker_call"),
        ("call_reject", "recloser"),
        ("call_reject", "failsafe"),
        ("registry", "get"),
        ("registry", "get_or_create_existing"),
        ("tower", "bare"),
        ("tower", "cbreaker_layer"),
        ("tower", "cbreaker_layer_untimed"),
        ("tower", "cbreaker_layer_static_untimed"),
        ("tower", "tower_resilience_layer"),
    ] {
        println!("| {g}/{b} | {} |", ns(get(g, b)));
    }

    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    };
    let bare = get("tower", "bare");
    let overhead = |row| Some(get("tower", row)? - bare?);
    let rows = [
        (
            "success: recloser ÷ cbreaker `call`",
            ratio(
                get("call_success", "recloser"),
                get("call_success", "cbreaker_call"),
            ),
            1.5,
        ),
        (
            "success: failsafe ÷ cbreaker `call`",
            ratio(
                get("call_success", "failsafe"),
                get("call_success", "cbreaker_call"),
            ),
            1.0,
        ),
        (
            "rejection: recloser ÷ cbreaker `call`",
            ratio(
                get("call_reject", "recloser"),
                get("call_reject", "cbreaker_call"),
            ),
            2.0,
        ),
        (
            "rejection: failsafe ÷ cbreaker `call`",
            ratio(
                get("call_reject", "failsafe"),
                get("call_reject", "cbreaker_call"),
            ),
            1.0,
        ),
        (
            "tower overhead: tower-resilience ÷ cbreaker layer (timed, for the histogram)",
            ratio(
                overhead("tower_resilience_layer"),
                overhead("cbreaker_layer"),
            ),
            10.0,
        ),
        (
            "tower overhead: tower-resilience ÷ cbreaker layer (untimed)",
            ratio(
                overhead("tower_resilience_layer"),
                overhead("cbreaker_layer_untimed"),
            ),
            10.0,
        ),
        (
            "tower overhead: tower-resilience ÷ cbreaker layer (untimed, `from_static`)",
            ratio(
                overhead("tower_resilience_layer"),
                overhead("cbreaker_layer_static_untimed"),
            ),
            10.0,
        ),
    ];
    println!();
    println!(
        "tower overhead over the bare service_fn: cbreaker {} (untimed {}, static untimed {}), \
         tower-resilience {}",
        ns(overhead("cbreaker_layer")),
        ns(overhead("cbreaker_layer_untimed")),
        ns(overhead("cbreaker_layer_static_untimed")),
        ns(overhead("tower_resilience_layer"))
    );
    println!();
    println!("| ratio | measured | target | |");
    println!("|---|---:|---:|---|");
    for (name, r, target) in rows {
        let verdict = match r {
            Some(r) if r >= target => "met",
            Some(_) => "missed",
            None => "not run",
        };
        let r = r.map_or("—".into(), |r| format!("{r:.2}×"));
        println!("| {name} | {r} | ≥ {target}× | {verdict} |");
    }
}
