//! The frame the line and bar charts share: a value axis on the left with
//! nice ticks and grid lines, buckets along the bottom with as many labels
//! as fit without overlapping.

use super::scale::{label_step, nice_ticks, r1, text_width, Unit};
use super::{ROOM, WIDTH};

/// Where along the x axis the buckets sit.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Spacing {
    /// On the plot's edges and evenly between (a line's points).
    Points,
    /// In the middle of equal slots (bars).
    Slots,
}

/// A line of text.
const LINE: f64 = ROOM * 1.2;
/// Below the value axis' lowest label, which is centred on the plot's
/// bottom edge.
const BELOW_TICK: f64 = ROOM * 0.6 + 2.0;

pub(super) struct Axes {
    /// The plot's edges, in user units from the drawing's top left.
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    /// Each tick's height and label.
    pub ticks: Vec<(f64, String)>,
    /// Named above the value axis (the currency).
    pub caption: Option<&'static str>,
    /// The labels that fit: position and text.
    pub x_labels: Vec<(f64, String)>,
    /// Every how many buckets a label goes (1 when all fit), counted back
    /// from the last, the most recent.
    label_every: usize,
    unit: Unit,
    /// The lowest and highest tick, in axis units.
    lo: f64,
    hi: f64,
    n: usize,
    spacing: Spacing,
}

impl Axes {
    /// Axes for `labels.len()` buckets holding `values` (finite, in the
    /// unit's own terms), in a drawing `height` tall.
    pub fn new(
        unit: Unit,
        values: impl Iterator<Item = f64>,
        labels: &[String],
        spacing: Spacing,
        height: f64,
    ) -> Self {
        let (min, max) = values
            .map(|v| unit.to_axis(v))
            .fold((0.0, 0.0), |(lo, hi), v| (v.min(lo), v.max(hi)));
        let ticks = nice_ticks(min, max, unit);
        let tick_labels: Vec<String> = ticks
            .values
            .iter()
            .map(|v| unit.tick(*v, ticks.decimals))
            .collect();
        let caption = unit.axis_caption();
        let widest_tick = tick_labels
            .iter()
            .map(|t| text_width(t, ROOM))
            .fold(0.0, f64::max);
        let widest_label = labels
            .iter()
            .map(|l| text_width(l, ROOM))
            .fold(0.0, f64::max);
        let n = labels.len();
        // Room for the outermost labels' halves, centred on the plot's edges
        // (points) or on the outermost slots' middles (bars).
        let overhang = |slot: f64| match spacing {
            Spacing::Points => widest_label / 2.0,
            Spacing::Slots => (widest_label / 2.0 - slot / 2.0).max(0.0),
        };
        let rough_slot = (WIDTH - widest_tick) / n.max(1) as f64;
        let left = (widest_tick + 6.0).max(overhang(rough_slot)).ceil();
        let right = overhang(rough_slot).max(4.0).ceil();
        // Room above for a bar's value, or for the caption above the top
        // tick's label; below for a line of labels under the lowest tick's.
        let top = if caption.is_some() {
            LINE + BELOW_TICK + 2.0
        } else {
            LINE + 6.0
        };
        let bottom = height - BELOW_TICK - LINE - 2.0;
        let mut axes = Axes {
            left,
            right: WIDTH - right,
            top,
            bottom,
            ticks: Vec::new(),
            caption,
            x_labels: Vec::new(),
            label_every: 1,
            unit,
            lo: ticks.lo(),
            hi: ticks.hi(),
            n,
            spacing,
        };
        axes.ticks = ticks
            .values
            .iter()
            .zip(tick_labels)
            .map(|(v, label)| (axes.height_of(*v), label))
            .collect();
        axes.label_every = label_step(axes.slot(), widest_label);
        axes.x_labels = labels
            .iter()
            .enumerate()
            .filter(|(i, _)| axes.labelled(*i))
            .map(|(i, l)| (axes.x(i), l.clone()))
            .collect();
        axes
    }

    /// Whether the `i`th bucket has its label under it.
    pub fn labelled(&self, i: usize) -> bool {
        self.n
            .saturating_sub(1)
            .saturating_sub(i)
            .is_multiple_of(self.label_every.max(1))
    }

    /// The distance between neighbouring buckets.
    pub fn slot(&self) -> f64 {
        let width = self.right - self.left;
        match self.spacing {
            Spacing::Points if self.n > 1 => width / (self.n - 1) as f64,
            Spacing::Points => width,
            Spacing::Slots => width / self.n.max(1) as f64,
        }
    }

    /// The `i`th bucket's x.
    pub fn x(&self, i: usize) -> f64 {
        r1(match self.spacing {
            Spacing::Points if self.n == 1 => (self.left + self.right) / 2.0,
            Spacing::Points => self.left + i as f64 * self.slot(),
            Spacing::Slots => self.left + (i as f64 + 0.5) * self.slot(),
        })
    }

    /// A value's y.
    pub fn y(&self, v: f64) -> f64 {
        self.height_of(self.unit.to_axis(v))
    }

    /// The y of a value in axis units; the ticks' range is never empty.
    fn height_of(&self, v: f64) -> f64 {
        let span = self.hi - self.lo;
        let share = if span > 0.0 {
            (v - self.lo) / span
        } else {
            0.0
        };
        r1(self.bottom - share * (self.bottom - self.top))
    }

    /// The y of the value 0, where bars start.
    pub fn zero(&self) -> f64 {
        self.height_of(0.0)
    }

    /// Where the x labels hang from.
    pub fn label_y(&self) -> f64 {
        self.bottom + BELOW_TICK
    }

    /// Where tick labels end, right-aligned.
    pub fn tick_x(&self) -> f64 {
        self.left - 6.0
    }
}
