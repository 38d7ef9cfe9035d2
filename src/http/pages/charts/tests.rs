use super::scale::nice_ticks;
use super::*;
use crate::domain::money::Currency;

fn eur() -> Unit {
    Unit::Money(Currency::parse("EUR").unwrap())
}

fn weeks(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("2026-{:02}-{:02}", 1 + i / 4 % 12, 1 + (i % 4) * 7))
        .collect()
}

fn sessions(points: Vec<f64>) -> LineChart<'static> {
    LineChart {
        title: "Sessions",
        x_label: "Week of",
        labels: weeks(points.len()),
        series: vec![Series {
            name: "Requested".into(),
            points,
        }],
        unit: Unit::Count,
    }
}

/// The open and close tags nest; void elements are written `<x/>`.
fn assert_balanced(markup: &str) {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = markup;
    while let Some(start) = rest.find('<') {
        let end = start + rest[start..].find('>').expect("an unclosed tag");
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') || tag.ends_with('/') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop(), Some(name), "</{name}> closes the wrong tag");
        } else {
            open.push(tag.split_whitespace().next().unwrap_or(tag));
        }
    }
    assert!(open.is_empty(), "left open: {open:?}");
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn every_chart_is_one_figure_with_one_well_formed_svg_and_a_table() {
    let line = line(&LineChart {
        series: vec![
            Series {
                name: "Requested".into(),
                points: vec![3.0, 41.0, 7.0],
            },
            Series {
                name: "Completed".into(),
                points: vec![1.0, 30.0, 5.0],
            },
        ],
        ..sessions(vec![0.0; 3])
    });
    let bars = bars(&BarChart {
        title: "Ratings",
        x_label: "Rating",
        bars: vec![("1★".into(), 2.0), ("5★".into(), 40.0)],
        unit: Unit::Count,
    });
    let funnel = funnel(&Funnel {
        title: "Researchers",
        steps: vec![("Collected".into(), 1200), ("Booked".into(), 12)],
    });
    for markup in [&line, &bars, &funnel] {
        assert_balanced(markup);
        assert_eq!(count(markup, "<figure class=\"chart\""), 1);
        assert_eq!(count(markup, "<svg class=\"chart-drawing\""), 1);
        assert!(markup.contains("role=\"img\""));
        assert!(markup.contains("<summary>Show as a table</summary>"));
        assert!(markup.contains("<table"));
    }
    assert_eq!(count(&line, "<li class=\"s"), 2, "a legend for two series");
    assert!(
        line.contains("highest: 41 Requested (2026-01-08)"),
        "{line}"
    );
}

#[test]
fn the_table_holds_every_value_exactly_as_its_unit_prints_it() {
    let html = bars(&BarChart {
        title: "Earnings",
        x_label: "Month",
        bars: vec![
            ("Oct 2026".into(), 123_456.0),
            ("Nov 2026".into(), 5.0),
            ("Dec 2026".into(), 0.0),
        ],
        unit: eur(),
    });
    for (label, value) in [
        ("Oct 2026", "EUR 1,234.56"),
        ("Nov 2026", "EUR 0.05"),
        ("Dec 2026", "EUR 0.00"),
    ] {
        let row = format!("<tr><th scope=\"row\">{label}</th><td>{value}</td></tr>");
        assert!(html.contains(&row), "missing {row}");
    }
    assert!(html.contains("total: EUR 1,234.61"));
}

#[test]
fn many_buckets_get_fewer_labels_that_never_overlap() {
    let html = line(&sessions((0..52).map(f64::from).collect()));
    let xs: Vec<f64> = html
        .match_indices("dominant-baseline=\"hanging\">2026-")
        .map(|(at, _)| {
            let tag = &html[html[..at].rfind("<text x=\"").unwrap() + 9..];
            tag[..tag.find('"').unwrap()].parse().unwrap()
        })
        .collect();
    assert!(xs.len() >= 3 && xs.len() <= 8, "{} labels", xs.len());
    let label_width = 10.0 * FONT * 0.6; // at least
    assert!(xs.windows(2).all(|w| w[1] - w[0] >= label_width));
    // Every row is still in the table.
    assert_eq!(count(&html, "<tr><th scope=\"row\">"), 52);

    let few = line(&sessions(vec![1.0, 2.0, 3.0]));
    assert_eq!(count(&few, "dominant-baseline=\"hanging\">2026-"), 3);
}

#[test]
fn all_zeros_or_no_buckets_say_there_is_no_data() {
    let zeros = line(&sessions(vec![0.0; 12]));
    let nothing = line(&sessions(Vec::new()));
    let broken = line(&sessions(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY]));
    let no_bars = bars(&BarChart {
        title: "Ratings",
        x_label: "Rating",
        bars: Vec::new(),
        unit: Unit::Count,
    });
    let no_one = funnel(&Funnel {
        title: "Researchers",
        steps: vec![("Collected".into(), 0), ("Booked".into(), 0)],
    });
    for html in [zeros, nothing, broken, no_bars, no_one] {
        assert!(html.contains("No data in this range."), "{html}");
        assert!(!html.contains("<svg"));
        assert_balanced(&html);
    }
}

#[test]
fn broken_values_are_drawn_as_zero() {
    let html = line(&sessions(vec![f64::NAN, 4.0, f64::INFINITY]));
    assert!(!html.contains("NaN") && !html.contains("inf"), "{html}");
    assert!(html.contains("<td>0</td>"));
}

#[test]
fn titles_labels_and_names_are_escaped() {
    let html = line(&LineChart {
        title: "<script>alert(1)</script>",
        x_label: "Week & day",
        labels: vec!["<b>".into(), "\"x\"".into()],
        series: vec![Series {
            name: "<img src=x onerror=alert(1)>".into(),
            points: vec![1.0, 2.0],
        }],
        unit: Unit::Count,
    });
    assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("<b>"));
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{html}"
    );
    assert!(html.contains("Week &#38; day"));
    assert_balanced(&html);
}

#[test]
fn values_print_by_unit() {
    assert_eq!(eur().format(123_456.0), "EUR 1,234.56");
    let jpy = Unit::Money(Currency::parse("JPY").unwrap());
    assert_eq!(jpy.format(123_456.0), "JPY 123,456");
    assert_eq!(Unit::Count.format(1_234_567.0), "1,234,567");
    assert_eq!(Unit::Percent.format(12.345), "12.3%");
    assert_eq!(Unit::Percent.format(-0.01), "0.0%");
    assert_eq!(Unit::Count.tick(25_000.0, 0), "25k");
    assert_eq!(Unit::Count.tick(1_500.0, 0), "1,500");
    assert_eq!(Unit::Percent.tick(0.5, 1), "0.5%");
}

#[test]
fn ticks_are_nice_numbers_from_zero() {
    let ticks = |max: f64, unit: Unit| nice_ticks(0.0, max, unit).values;
    assert_eq!(ticks(0.0, Unit::Count), [0.0, 1.0]);
    assert_eq!(ticks(1.0, Unit::Count), [0.0, 1.0]);
    assert_eq!(
        ticks(1.0, Unit::Percent),
        [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
    );
    assert_eq!(ticks(7.0, Unit::Count), [0.0, 2.0, 4.0, 6.0, 8.0]);
    assert_eq!(
        ticks(93.0, Unit::Count),
        [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    );
    assert_eq!(ticks(1234.0, Unit::Count), [0.0, 500.0, 1000.0, 1500.0]);
    assert_eq!(
        ticks(100.0, Unit::Count),
        [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    );
    assert_eq!(nice_ticks(-30.0, 93.0, Unit::Count).values[0], -50.0);
    assert_eq!(nice_ticks(0.0, 1.0, Unit::Percent).decimals, 1);
}

#[test]
fn a_funnel_shows_each_steps_share_of_the_first_and_the_previous() {
    let html = funnel(&Funnel {
        title: "Researchers",
        steps: vec![
            ("Collected".into(), 1200),
            ("Invited".into(), 300),
            ("Booked".into(), 12),
        ],
    });
    assert!(html.contains(
        "<tr><th scope=\"row\">Invited</th><td>300</td><td>25.0%</td><td>25.0%</td></tr>"
    ));
    assert!(html
        .contains("<tr><th scope=\"row\">Booked</th><td>12</td><td>1.0%</td><td>4.0%</td></tr>"));
    assert!(html.contains("3 steps from Collected (1,200) to Booked (12): 1.0% of the first."));

    let odd = funnel(&Funnel {
        title: "Researchers",
        steps: vec![("Collected".into(), 0), ("Booked".into(), 3)],
    });
    assert!(odd.contains("<td>3</td><td>–</td><td>–</td>"), "{odd}");
}

#[test]
fn two_different_charts_on_a_page_have_different_ids() {
    let a = line(&sessions(vec![1.0, 2.0]));
    let b = line(&LineChart {
        title: "Hours",
        ..sessions(vec![1.0, 2.0])
    });
    let id = |html: &str| {
        html.split("id=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    assert_ne!(id(&a), id(&b));
    assert_eq!(id(&a), id(&line(&sessions(vec![1.0, 2.0]))));
}

/// A page of every kind of chart renders: six drawings, each with its
/// table, and the empty one as a message. With `CHARTS_SAMPLE` set the
/// page is also written to look at in a browser, light and dark:
/// `CHARTS_SAMPLE=/tmp/charts.html cargo test --lib charts`
/// (also writes `/tmp/charts-dark.html`).
#[test]
fn a_sample_page_of_every_chart() {
    let wave = |k: f64, scale: f64| -> Vec<f64> {
        (0..52)
            .map(|i| {
                (scale * (1.0 + (f64::from(i) / 5.0 + k).sin()) * (1.0 + f64::from(i) / 40.0))
                    .round()
            })
            .collect()
    };
    let months: Vec<String> = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .map(|m| format!("{m} 2026"))
    .collect();
    let charts = [
        line(&LineChart {
            title: "Sessions per week",
            x_label: "Week of",
            labels: (0..52)
                .map(|i| {
                    (chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()
                        + chrono::Duration::weeks(i))
                    .to_string()
                })
                .collect(),
            series: vec![
                Series {
                    name: "Requested".into(),
                    points: wave(0.0, 14.0),
                },
                Series {
                    name: "Accepted".into(),
                    points: wave(0.6, 10.0),
                },
                Series {
                    name: "Completed".into(),
                    points: wave(1.2, 7.0),
                },
            ],
            unit: Unit::Count,
        }),
        line(&LineChart {
            title: "Acceptance rate",
            x_label: "Month",
            labels: months.clone(),
            series: vec![Series {
                name: "Accepted".into(),
                points: vec![
                    62.5, 70.0, 71.3, 68.0, 75.5, 80.1, 78.0, 82.4, 79.9, 85.0, 88.2, 86.7,
                ],
            }],
            unit: Unit::Percent,
        }),
        bars(&BarChart {
            title: "Rating distribution",
            x_label: "Rating",
            bars: vec![
                ("1★".into(), 2.0),
                ("2★".into(), 3.0),
                ("3★".into(), 9.0),
                ("4★".into(), 31.0),
                ("5★".into(), 57.0),
            ],
            unit: Unit::Count,
        }),
        bars(&BarChart {
            title: "Earnings by month",
            x_label: "Month",
            bars: months
                .iter()
                .zip([
                    42_000.0, 61_050.0, 0.0, 88_800.0, 123_456.0, 97_500.0, 45_000.0, 30_000.0,
                    150_075.0, 210_000.0, 198_950.0, 240_500.0,
                ])
                .map(|(m, v)| (m.clone(), v))
                .collect(),
            unit: eur(),
        }),
        funnel(&Funnel {
            title: "Researchers",
            steps: vec![
                ("Collected".into(), 1_284),
                ("E-mail found".into(), 903),
                ("Invited".into(), 655),
                ("Registered".into(), 212),
                ("Bookable".into(), 148),
                ("Booked".into(), 61),
            ],
        }),
        line(&LineChart {
            title: "Hours <script>booked</script> by a very long series name that goes on",
            x_label: "Month",
            labels: months.clone(),
            series: (0..6)
                .map(|k| Series {
                    name: format!("Researcher number {k} with a long name"),
                    points: (0..12).map(|i| f64::from((i * (k + 2)) % 9 + k)).collect(),
                })
                .collect(),
            unit: Unit::Count,
        }),
        line(&sessions(vec![0.0; 12])),
    ];
    let drawn = charts
        .iter()
        .filter(|c| c.contains("<svg class=\"chart-drawing\""))
        .count();
    let tables = charts
        .iter()
        .filter(|c| c.contains("Show as a table"))
        .count();
    assert_eq!((drawn, tables), (6, 6));
    assert!(charts[6].contains("No data in this range."));
    assert!(!charts.join("").contains("<script>"));
    let Ok(path) = std::env::var("CHARTS_SAMPLE") else {
        return;
    };
    let root = env!("CARGO_MANIFEST_DIR");
    for (file, theme) in [
        (path.clone(), ""),
        (path.replace(".html", "-dark.html"), " data-theme=\"dark\""),
    ] {
        let page = format!(
            "<!doctype html><html lang=\"en\"{theme}><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <link rel=\"stylesheet\" href=\"file://{root}/static/vendor/pico.min.css\">\
             <link rel=\"stylesheet\" href=\"file://{root}/static/css/app.css\"></head>\
             <body><main class=\"container\"><h1>Charts</h1><div class=\"charts\">{}</div></main></body></html>",
            charts.join("\n")
        );
        std::fs::write(file, page).unwrap();
    }
}
