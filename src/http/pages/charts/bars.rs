//! Bar charts: one value per bucket (the rating distribution, earnings by
//! month).

use askama::Template;

use super::axes::{Axes, Spacing};
use super::scale::{finite, r1, text_width, Unit};
use super::{chart_id, render, style_of, Frame, Table, ROOM};

pub struct BarChart<'a> {
    pub title: &'a str,
    /// What a label is, as the table's first column names it: "Month".
    pub x_label: &'a str,
    /// Each bar's label and value: ("5★", 40.0), ("Nov 2026", 123450.0).
    pub bars: Vec<(String, f64)>,
    pub unit: Unit,
}

const HEIGHT: f64 = 220.0;

#[derive(Template)]
#[template(path = "partials/charts/bars.html")]
struct BarsView {
    frame: Frame,
    axes: Axes,
    class: String,
    colour: &'static str,
    bars: Vec<Bar>,
}

struct Bar {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
    /// "Nov 2026: EUR 1,234.50", shown on hover.
    tip: String,
    /// The value over the bar, when every bar's fits its slot: its centre,
    /// baseline and text.
    value: Option<(f64, f64, String)>,
}

/// The markup of a bar chart, or "No data in this range" when there are
/// no bars or every value is 0.
pub fn bars(c: &BarChart) -> String {
    let values: Vec<f64> = c.bars.iter().map(|(_, v)| finite(*v)).collect();
    let labels: Vec<String> = c.bars.iter().map(|(l, _)| l.clone()).collect();
    let axes = Axes::new(
        c.unit,
        values.iter().copied(),
        &labels,
        Spacing::Slots,
        HEIGHT,
    );
    let slot = axes.slot();
    let width = r1((slot * 0.7).min(48.0));
    let texts = value_texts(c.unit, &values, slot);
    let bars = values
        .iter()
        .zip(&labels)
        .enumerate()
        .map(|(i, (v, label))| {
            let x = axes.x(i);
            let y = axes.y(*v);
            let zero = axes.zero();
            // A value's label sits above its bar, or below one that points down.
            let text_y = if *v < 0.0 { y + ROOM + 2.0 } else { y - 4.0 };
            Bar {
                x: r1(x - width / 2.0),
                y: y.min(zero),
                width,
                height: r1((zero - y).abs()),
                tip: format!("{label}: {}", c.unit.format(*v)),
                value: texts.as_ref().map(|t| (x, r1(text_y), t[i].clone())),
            }
        })
        .collect();

    let (style, class) = style_of(0);
    let table = Table {
        head: vec![c.x_label.to_string(), c.title.to_string()],
        rows: labels
            .iter()
            .zip(&values)
            .map(|(l, v)| (l.clone(), vec![c.unit.format(*v)]))
            .collect(),
    };
    let mut id_parts: Vec<&str> = vec![c.title];
    id_parts.extend(labels.iter().map(String::as_str));
    let frame = Frame {
        id: chart_id("bars", &id_parts),
        title: c.title.to_string(),
        desc: summary(c, &values),
        height: HEIGHT,
        legend: Vec::new(),
        table,
        empty: values.iter().all(|v| *v == 0.0),
    };
    render(&BarsView {
        frame,
        axes,
        class,
        colour: style.colour,
        bars,
    })
}

/// The labels over the bars: exact ("EUR 1,234.50") if every one fits its
/// slot, else as the axis would print them ("1,235"), else none.
fn value_texts(unit: Unit, values: &[f64], slot: f64) -> Option<Vec<String>> {
    let fits = |texts: &Vec<String>| texts.iter().all(|t| text_width(t, ROOM) <= slot - 2.0);
    let exact: Vec<String> = values.iter().map(|v| unit.format(*v)).collect();
    if fits(&exact) {
        return Some(exact);
    }
    let short: Vec<String> = values
        .iter()
        .map(|v| unit.tick(unit.to_axis(*v), 0))
        .collect();
    fits(&short).then_some(short)
}

/// "12 bars, Jan 2026 to Dec 2026; highest: EUR 1,234.50 (Nov 2026);
/// total: EUR 9,876.00."
fn summary(c: &BarChart, values: &[f64]) -> String {
    let (Some((first, _)), Some((last, _))) = (c.bars.first(), c.bars.last()) else {
        return "No data.".into();
    };
    let mut text = format!("{} bars, {first} to {last}", c.bars.len());
    let highest = values
        .iter()
        .enumerate()
        .fold(None::<(usize, f64)>, |best, (i, v)| match best {
            Some((_, b)) if b >= *v => best,
            _ => Some((i, *v)),
        });
    if let Some((i, v)) = highest {
        text += &format!("; highest: {} ({})", c.unit.format(v), c.bars[i].0);
    }
    if c.unit.sums() {
        text += &format!("; total: {}", c.unit.format(values.iter().sum()));
    }
    text + "."
}
