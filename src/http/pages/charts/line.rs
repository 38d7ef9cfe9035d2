//! Line charts: one or more series over the same buckets (weeks, months).

use askama::Template;

use super::axes::{Axes, Spacing};
use super::scale::{finite, Unit};
use super::{chart_id, render, style_of, Frame, LegendItem, Table};

/// A line's values, one per label of its chart; missing ones count as 0.
pub struct Series {
    pub name: String,
    pub points: Vec<f64>,
}

pub struct LineChart<'a> {
    pub title: &'a str,
    /// What a label is, as the table's first column names it: "Week of".
    pub x_label: &'a str,
    /// The buckets in order: "2026-11-30", "Nov 2026".
    pub labels: Vec<String>,
    pub series: Vec<Series>,
    pub unit: Unit,
}

const HEIGHT: f64 = 220.0;

/// Up to this many buckets every point gets a marker; past it only the
/// labelled ones do, so the shapes still tell the lines apart.
const ALL_MARKERS: usize = 31;

#[derive(Template)]
#[template(path = "partials/charts/line.html")]
struct LineView {
    frame: Frame,
    axes: Axes,
    lines: Vec<Line>,
}

struct Line {
    class: String,
    colour: &'static str,
    dash: &'static str,
    path: String,
    /// Each marker's outline and its tooltip ("Requested, 2026-03-02: 41").
    markers: Vec<(String, String)>,
}

/// The markup of a line chart, or "No data in this range" when there are
/// no buckets or every value is 0.
pub fn line(c: &LineChart) -> String {
    let n = c.labels.len();
    let values: Vec<Vec<f64>> = c
        .series
        .iter()
        .map(|s| {
            (0..n)
                .map(|i| finite(s.points.get(i).copied().unwrap_or(0.0)))
                .collect()
        })
        .collect();
    let axes = Axes::new(
        c.unit,
        values.iter().flatten().copied(),
        &c.labels,
        Spacing::Points,
        HEIGHT,
    );

    let lines = c
        .series
        .iter()
        .zip(&values)
        .enumerate()
        .map(|(k, (s, vs))| {
            let (style, class) = style_of(k);
            let at = |i: usize| (axes.x(i), axes.y(vs[i]));
            let path = (0..n)
                .map(|i| {
                    let (x, y) = at(i);
                    format!("{}{x} {y}", if i == 0 { 'M' } else { 'L' })
                })
                .collect();
            let markers = (0..n)
                .filter(|i| n <= ALL_MARKERS || axes.labelled(*i))
                .map(|i| {
                    let (x, y) = at(i);
                    let tip = format!("{}, {}: {}", s.name, c.labels[i], c.unit.format(vs[i]));
                    (style.marker.path(x, y), tip)
                })
                .collect();
            Line {
                class,
                colour: style.colour,
                dash: style.dash,
                path,
                markers,
            }
        })
        .collect();

    let legend = if c.series.len() > 1 {
        c.series
            .iter()
            .enumerate()
            .map(|(k, s)| LegendItem::new(k, &s.name))
            .collect()
    } else {
        Vec::new()
    };
    let table = Table {
        head: std::iter::once(c.x_label.to_string())
            .chain(c.series.iter().map(|s| s.name.clone()))
            .collect(),
        rows: c
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                (
                    l.clone(),
                    values.iter().map(|vs| c.unit.format(vs[i])).collect(),
                )
            })
            .collect(),
    };
    let mut id_parts: Vec<&str> = vec![c.title];
    id_parts.extend(c.series.iter().map(|s| s.name.as_str()));
    id_parts.extend(c.labels.iter().map(String::as_str));
    let frame = Frame {
        id: chart_id("line", &id_parts),
        title: c.title.to_string(),
        desc: summary(c, &values),
        height: HEIGHT,
        legend,
        table,
        empty: values.iter().flatten().all(|v| *v == 0.0),
    };
    render(&LineView { frame, axes, lines })
}

/// "3 series over 52 buckets, 2026-01-05 to 2026-12-28; highest: 41
/// Requested (2026-03-02)."
fn summary(c: &LineChart, values: &[Vec<f64>]) -> String {
    let (Some(first), Some(last)) = (c.labels.first(), c.labels.last()) else {
        return "No data.".into();
    };
    let what = match c.series.as_slice() {
        [one] => one.name.clone(),
        many => format!("{} series", many.len()),
    };
    let range = if c.labels.len() == 1 {
        format!("{what} for {first}")
    } else {
        format!("{what} over {} buckets, {first} to {last}", c.labels.len())
    };
    let mut highest: Option<(f64, usize, usize)> = None;
    for (k, vs) in values.iter().enumerate() {
        for (i, v) in vs.iter().enumerate() {
            if highest.is_none_or(|(h, _, _)| *v > h) {
                highest = Some((*v, k, i));
            }
        }
    }
    match highest {
        Some((v, k, i)) => {
            let name = if c.series.len() > 1 {
                format!(" {}", c.series[k].name)
            } else {
                String::new()
            };
            format!(
                "{range}; highest: {}{name} ({}).",
                c.unit.format(v),
                c.labels[i]
            )
        }
        None => format!("{range}."),
    }
}
