//! Funnels: how many of those who reached one step reached the next
//! (collected → e-mail found → invited → registered → bookable → booked).

use askama::Template;

use super::scale::{r1, text_width, Unit};
use super::{chart_id, render, style_of, Frame, Table, ROOM, WIDTH};

pub struct Funnel<'a> {
    pub title: &'a str,
    /// Each step's name and how many reached it, in order.
    pub steps: Vec<(String, u64)>,
}

/// Each step is a row: its name above its bar, the count after it.
const ROW: f64 = NAME + BAR + 10.0;
const NAME: f64 = ROOM * 1.2 + 2.0;
const BAR: f64 = 16.0;

#[derive(Template)]
#[template(path = "partials/charts/funnel.html")]
struct FunnelView {
    frame: Frame,
    class: String,
    colour: &'static str,
    /// Every bar's height.
    bar: f64,
    rows: Vec<Row>,
}

struct Row {
    /// The top of the step's name.
    name_y: f64,
    name: String,
    bar_y: f64,
    width: f64,
    /// "Registered: 412, 38.2% of Collected", shown on hover.
    tip: String,
    value_x: f64,
    /// The middle of the bar, where its count is centred.
    value_y: f64,
    /// "412 · 38.2%".
    value: String,
}

/// The markup of a funnel, or "No data in this range" when there are no
/// steps or nobody reached any.
pub fn funnel(c: &Funnel) -> String {
    let first = c.steps.first().map_or(0, |(_, n)| *n);
    let first_name = c.steps.first().map_or("", |(name, _)| name.as_str());
    let widest = c.steps.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let share = |part: u64, whole: u64| match whole {
        0 => "–".to_string(),
        _ => Unit::Percent.format(part as f64 * 100.0 / whole as f64),
    };
    // Per step: how many reached it, their share of the first step's and of
    // the previous step's.
    let numbers: Vec<[String; 3]> = c
        .steps
        .iter()
        .enumerate()
        .map(|(i, (_, n))| {
            let previous = i.checked_sub(1).and_then(|p| c.steps.get(p));
            [
                Unit::Count.format(*n as f64),
                share(*n, first),
                previous.map_or_else(|| "–".to_string(), |(_, p)| share(*n, *p)),
            ]
        })
        .collect();
    let values: Vec<String> = numbers
        .iter()
        .enumerate()
        .map(|(i, [count, of_first, _])| {
            if i == 0 || first == 0 {
                count.clone()
            } else {
                format!("{count} · {of_first}")
            }
        })
        .collect();
    let room = values
        .iter()
        .map(|v| text_width(v, ROOM))
        .fold(0.0, f64::max)
        + 6.0;
    let full = (WIDTH - room).max(WIDTH / 2.0);
    let rows = c
        .steps
        .iter()
        .zip(&numbers)
        .zip(values)
        .enumerate()
        .map(|(i, (((name, n), [count, of_first, _]), value))| {
            let top = i as f64 * ROW;
            let width = match widest {
                0 => 0.0,
                w => r1(full * *n as f64 / w as f64),
            };
            let tip = match i {
                0 => format!("{name}: {count}"),
                _ => format!("{name}: {count}, {of_first} of {first_name}"),
            };
            Row {
                name_y: top,
                name: name.clone(),
                bar_y: top + NAME,
                width,
                tip,
                value_x: r1(width + 6.0),
                value_y: top + NAME + BAR / 2.0,
                value,
            }
        })
        .collect();

    let table = Table {
        head: ["Step", "Reached", "Of the first", "Of the previous"]
            .map(String::from)
            .to_vec(),
        rows: c
            .steps
            .iter()
            .zip(numbers)
            .map(|((name, _), cells)| (name.clone(), cells.to_vec()))
            .collect(),
    };
    let mut id_parts: Vec<&str> = vec![c.title];
    id_parts.extend(c.steps.iter().map(|(s, _)| s.as_str()));
    let (style, class) = style_of(0);
    let frame = Frame {
        id: chart_id("funnel", &id_parts),
        title: c.title.to_string(),
        desc: summary(c, first),
        height: (c.steps.len() as f64 * ROW).max(ROW),
        legend: Vec::new(),
        table,
        empty: widest == 0,
    };
    render(&FunnelView {
        frame,
        class,
        colour: style.colour,
        bar: BAR,
        rows,
    })
}

/// "6 steps from Collected (1,200) to Booked (12): 1.0% of the first."
fn summary(c: &Funnel, first: u64) -> String {
    let (Some((first_name, _)), Some((last_name, last))) = (c.steps.first(), c.steps.last()) else {
        return "No data.".into();
    };
    let count = |n: u64| Unit::Count.format(n as f64);
    let mut text = format!(
        "{} steps from {first_name} ({}) to {last_name} ({})",
        c.steps.len(),
        count(first),
        count(*last)
    );
    if first > 0 && c.steps.len() > 1 {
        let p = *last as f64 * 100.0 / first as f64;
        text += &format!(": {} of the first", Unit::Percent.format(p));
    }
    text + "."
}
