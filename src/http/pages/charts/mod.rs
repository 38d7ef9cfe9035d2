//! Charts for the dashboards, drawn on the server as inline SVG: no
//! JavaScript, readable with CSS off, scaling down to a phone, and each
//! with its numbers as a table one click away (and always in the markup,
//! for screen readers). Pure functions of the data: a page puts the
//! returned markup in its template with `|safe`; every text inside it was
//! escaped by askama (`templates/partials/charts/`).
//!
//! Series are told apart by colour, dash pattern and marker shape, so a
//! chart also reads in greyscale. The palette is Okabe–Ito's, darkened
//! where needed to keep 3:1 against both Pico's white and its dark
//! background; the same colours serve both modes, so they are written on
//! the elements themselves and no stylesheet is needed to see them. Axes
//! and text are `currentColor` and follow the page's text colour.

mod axes;
mod bars;
mod funnel;
mod line;
mod scale;
#[cfg(test)]
mod tests;

use askama::Template;

pub use bars::{bars, BarChart};
pub use funnel::{funnel, Funnel};
pub use line::{line, LineChart, Series};
pub use scale::Unit;

/// The width of every chart's drawing, in SVG user units. Text sizes are
/// in the same units and scale with the drawing: on a desktop `.chart`'s
/// width cap keeps them near body size.
const WIDTH: f64 = 400.0;
/// The text size of axis labels and values where the drawing is at least
/// its own width (and with CSS off).
const FONT: f64 = 12.0;
/// The text size where the drawing is narrower, as on a phone (app.css
/// sets it by a container query, so it stays readable when the drawing
/// shrinks). Every chart leaves room for text this large.
const ROOM: f64 = 15.0;

/// One series' look: colour, dash pattern and marker shape.
struct Style {
    colour: &'static str,
    dash: &'static str,
    marker: Marker,
}

#[derive(Clone, Copy)]
enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    TriangleDown,
    Bowtie,
}

/// Okabe–Ito blue, vermilion, bluish green, reddish purple, then its
/// orange darkened (#AD7A00) and a grey: each at least 3:1 on white and on
/// Pico's dark background (#13171F).
const STYLES: [Style; 6] = [
    style("#0072B2", "", Marker::Circle),
    style("#D55E00", "7 4", Marker::Square),
    style("#009E73", "2 3", Marker::Triangle),
    style("#CC79A7", "9 3 2 3", Marker::Diamond),
    style("#AD7A00", "4 6", Marker::TriangleDown),
    style("#767676", "12 3", Marker::Bowtie),
];

const fn style(colour: &'static str, dash: &'static str, marker: Marker) -> Style {
    Style {
        colour,
        dash,
        marker,
    }
}

/// The `n`th series' look (they repeat after six) and its CSS class.
fn style_of(n: usize) -> (&'static Style, String) {
    let i = n % STYLES.len();
    (&STYLES[i], format!("s{}", i + 1))
}

impl Marker {
    /// The marker's outline centred on (x, y), as path data.
    fn path(self, x: f64, y: f64) -> String {
        let r = scale::r1;
        let at = |dx: f64, dy: f64| format!("{} {}", r(x + dx), r(y + dy));
        match self {
            Marker::Circle => format!("M{}a3.5 3.5 0 1 0 7 0a3.5 3.5 0 1 0 -7 0Z", at(-3.5, 0.0)),
            Marker::Square => format!("M{}h6v6h-6Z", at(-3.0, -3.0)),
            Marker::Triangle => format!("M{}L{}L{}Z", at(0.0, -4.5), at(4.5, 3.5), at(-4.5, 3.5)),
            Marker::TriangleDown => {
                format!("M{}L{}L{}Z", at(0.0, 4.5), at(4.5, -3.5), at(-4.5, -3.5))
            }
            Marker::Diamond => format!(
                "M{}L{}L{}L{}Z",
                at(0.0, -4.5),
                at(4.5, 0.0),
                at(0.0, 4.5),
                at(-4.5, 0.0)
            ),
            Marker::Bowtie => format!(
                "M{}L{}L{}L{}Z",
                at(-4.0, -3.5),
                at(4.0, 3.5),
                at(4.0, -3.5),
                at(-4.0, 3.5)
            ),
        }
    }
}

/// A series' entry in the legend: a short sample of its line and marker.
struct LegendItem {
    name: String,
    class: String,
    colour: &'static str,
    dash: &'static str,
    marker: String,
}

impl LegendItem {
    fn new(n: usize, name: &str) -> Self {
        let (style, class) = style_of(n);
        LegendItem {
            name: name.to_string(),
            class,
            colour: style.colour,
            dash: style.dash,
            marker: style.marker.path(14.0, 6.0),
        }
    }
}

/// The numbers behind a chart: one row per label, one column per series.
struct Table {
    /// The header of the labels' column, then one per value column.
    head: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
}

/// What every chart shows around its drawing: the title, the summary the
/// SVG's `<desc>` gives, the legend and the table. `empty` replaces the
/// drawing, legend and table with "No data in this range".
struct Frame {
    id: String,
    title: String,
    desc: String,
    height: f64,
    legend: Vec<LegendItem>,
    table: Table,
    empty: bool,
}

impl Frame {
    fn width(&self) -> f64 {
        WIDTH
    }

    fn font(&self) -> f64 {
        FONT
    }
}

/// An id for the chart's `<title>`/`<desc>` references, the same for the
/// same chart and different for different ones on a page (FNV-1a of what
/// it shows), so callers need not pass one.
fn chart_id(kind: &str, parts: &[&str]) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in kind
        .bytes()
        .chain(parts.iter().flat_map(|p| p.bytes().chain([0])))
    {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    format!("chart-{kind}-{h:08x}")
}

/// The markup of a chart template. Rendering fills in numbers and escaped
/// texts and cannot fail in practice; if it ever does, the page shows no
/// chart rather than no page.
fn render(t: &impl Template) -> String {
    t.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "rendering a chart failed");
        String::new()
    })
}
