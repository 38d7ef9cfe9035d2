//! Who is in the generated data set, planned from the RNG alone: readers
//! who join as the service grows, researchers collected from papers (about
//! 70 % of them invited, registered and bookable, some others invited or
//! with an e-mail found), and the papers that link them.

use chrono::{Datelike, Duration};
use rand::Rng;

use super::words;
use super::{ScaleSpec, Time};

/// Where a person is: their zone, and the currency a researcher there
/// charges in.
pub struct Place {
    pub zone: &'static str,
    pub currency: &'static str,
    /// Out of 100.
    weight: u32,
}

/// Mostly euro countries, then the US and the UK: mixed currencies are
/// what the money dashboards must get right.
pub const PLACES: &[Place] = &[
    place("Europe/Berlin", "EUR", 30),
    place("Europe/Paris", "EUR", 14),
    place("Europe/Madrid", "EUR", 8),
    place("Europe/Amsterdam", "EUR", 8),
    place("Europe/London", "GBP", 14),
    place("America/New_York", "USD", 14),
    place("America/Los_Angeles", "USD", 6),
    place("Asia/Tokyo", "USD", 3),
    place("Australia/Sydney", "USD", 3),
];

const fn place(zone: &'static str, currency: &'static str, weight: u32) -> Place {
    Place {
        zone,
        currency,
        weight,
    }
}

fn pick_place<R: Rng>(rng: &mut R) -> usize {
    let mut roll = rng.gen_range(0..100);
    for (i, p) in PLACES.iter().enumerate() {
        if roll < p.weight {
            return i;
        }
        roll -= p.weight;
    }
    0
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reader {
    pub name: String,
    pub place: usize,
    pub joined: Time,
    /// Verified their address (only verified accounts book).
    pub verified: bool,
    /// The last moment the account was active.
    pub last_active: Time,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Researcher {
    pub name: String,
    pub affiliation: &'static str,
    pub place: usize,
    pub collected: Time,
    pub email_found: bool,
    /// The invitation e-mail, and whether it was opened.
    pub invited: Option<(Time, bool)>,
    /// Registered through the invitation: account, claimed profile,
    /// listing consent, settings and availability (bookable from then).
    pub registered: Option<Time>,
    /// Index into `calendar::TEMPLATES`.
    pub template: usize,
    /// 0: free sessions.
    pub price_minor: i64,
    /// How popular: sessions are drawn in proportion.
    pub weight: f64,
    pub field: usize,
    pub works: i64,
    pub h_index: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Paper {
    pub title: String,
    pub year: i32,
    pub venue: &'static str,
    /// Indices into `People::researchers`, in author order.
    pub authors: Vec<usize>,
    pub added: Time,
}

#[derive(Debug, Clone, PartialEq)]
pub struct People {
    /// In the order they joined.
    pub readers: Vec<Reader>,
    pub researchers: Vec<Researcher>,
    pub papers: Vec<Paper>,
    /// Each researcher's papers (indices into `papers`).
    pub papers_of: Vec<Vec<usize>>,
    /// The span's first instant.
    pub start: Time,
}

/// Researchers who register (and so are bookable): about 70 %, at least one.
pub fn bookable_count(researchers: usize) -> usize {
    (researchers * 7 / 10).max(1)
}

/// A point in [0, 1) drawn so that later is likelier: the service grows
/// (density from 0.35 at the start to about 1.65 at the end).
pub fn growth<R: Rng>(rng: &mut R) -> f64 {
    if rng.gen_bool(0.35) {
        rng.gen()
    } else {
        rng.gen::<f64>().max(rng.gen())
    }
}

/// `at` plus a random part of `span` (at least a minute).
pub fn after<R: Rng>(rng: &mut R, at: Time, span: Duration) -> Time {
    let secs = span.num_seconds().max(60);
    at + Duration::seconds(rng.gen_range(60..=secs))
}

pub fn plan<R: Rng>(spec: &ScaleSpec, now: Time, rng: &mut R) -> People {
    let start = now - Duration::days(spec.days);
    let span = now - start;
    let mut readers: Vec<Reader> = (0..spec.readers)
        .map(|_| {
            let joined = if rng.gen_bool(0.15) {
                start - Duration::seconds(rng.gen_range(0..365 * 86_400))
            } else {
                start + Duration::seconds((span.num_seconds() as f64 * growth(rng)) as i64)
            };
            Reader {
                name: words::person(rng),
                place: pick_place(rng),
                joined,
                verified: rng.gen_bool(0.96),
                last_active: joined,
            }
        })
        .collect();
    readers.sort_by_key(|r| r.joined);
    for r in &mut readers {
        r.last_active = last_active(rng, r.joined, now);
    }
    let registering = bookable_count(spec.researchers);
    let mut researchers: Vec<Researcher> = (0..spec.researchers)
        .map(|i| researcher(rng, i < registering, start, now))
        .collect();
    // Who registers is not who was collected first.
    for i in (1..researchers.len()).rev() {
        let j = rng.gen_range(0..=i);
        researchers.swap(i, j);
    }
    let (papers, papers_of) = papers(rng, &researchers, spec.paper_count(), now);
    People {
        readers,
        researchers,
        papers,
        papers_of,
        start,
    }
}

/// When an account was last active: about 4 % today, 12 % within the
/// week, 25 % within the month (the usual daily, weekly and monthly
/// shares), the rest some time since they joined.
fn last_active<R: Rng>(rng: &mut R, joined: Time, now: Time) -> Time {
    let roll: f64 = rng.gen();
    let within = if roll < 0.04 {
        Duration::hours(12)
    } else if roll < 0.12 {
        Duration::days(7)
    } else if roll < 0.25 {
        Duration::days(30)
    } else {
        now - joined
    };
    let from = (now - within).max(joined);
    after(rng, from, now - from - Duration::minutes(1)).min(now)
}

fn researcher<R: Rng>(rng: &mut R, registers: bool, start: Time, now: Time) -> Researcher {
    let collected = if rng.gen_bool(0.6) {
        start - Duration::days(rng.gen_range(30..400))
    } else {
        start + Duration::seconds(((now - start).num_seconds() as f64 * growth(rng)) as i64)
            - Duration::days(1)
    };
    let email_found = registers || rng.gen_bool(0.55);
    let invited = (registers || (email_found && rng.gen_bool(0.7))).then(|| {
        let at = after(
            rng,
            collected,
            ((now - collected) / 3).min(Duration::days(20)),
        );
        (at, rng.gen_bool(0.4))
    });
    let registered = match (registers, invited) {
        (true, Some((at, _))) => Some(after(rng, at, ((now - at) / 2).min(Duration::days(25)))),
        _ => None,
    };
    let place = pick_place(rng);
    let template = match rng.gen_range(0..100) {
        0..=59 => 0,
        60..=84 => 1,
        _ => 2,
    };
    let price_minor = if rng.gen_bool(0.25) {
        0
    } else {
        [2_500, 3_000, 4_000, 5_000, 6_000, 7_500, 9_000, 12_000][rng.gen_range(0..8)]
    };
    Researcher {
        name: words::person(rng),
        affiliation: words::pick(rng, words::UNIVERSITIES),
        place,
        collected,
        email_found,
        invited: invited.map(|(at, opened)| (at, opened || registered.is_some())),
        registered,
        template,
        price_minor,
        weight: 1.0 / (0.05 + 0.95 * rng.gen::<f64>()),
        field: rng.gen_range(0..words::FIELDS.len()),
        works: rng.gen_range(5..400),
        h_index: rng.gen_range(2..80),
    }
}

/// How many authors a paper has, 1 to 12, weighted like a real
/// literature: most have two to five (the mean is about four).
const AUTHOR_WEIGHTS: [u32; 12] = [8, 18, 20, 16, 12, 9, 6, 4, 3, 2, 1, 1];

fn author_count<R: Rng>(rng: &mut R) -> usize {
    let total: u32 = AUTHOR_WEIGHTS.iter().sum();
    let mut roll = rng.gen_range(0..total);
    for (i, w) in AUTHOR_WEIGHTS.iter().enumerate() {
        if roll < *w {
            return i + 1;
        }
        roll -= w;
    }
    1
}

/// When the first of `authors` was collected: their paper came just before.
pub fn first_collected(researchers: &[Researcher], authors: &[usize]) -> Time {
    authors
        .iter()
        .map(|a| researchers[*a].collected)
        .min()
        .unwrap_or_else(|| researchers[0].collected)
}

/// `count` papers of 1 to 12 authors. Every researcher was collected from
/// at least one paper: the author slots first take each researcher once,
/// in order, and then draw from everyone, so co-authors overlap across
/// papers. When the slots run out first, the researchers left join the
/// papers in turn.
fn papers<R: Rng>(
    rng: &mut R,
    researchers: &[Researcher],
    count: usize,
    now: Time,
) -> (Vec<Paper>, Vec<Vec<usize>>) {
    let n = researchers.len();
    let count = count.max(1);
    let mut authors_of: Vec<Vec<usize>> = Vec::with_capacity(count);
    let mut next = 0;
    for _ in 0..count {
        let k = author_count(rng).min(n);
        let mut authors = Vec::with_capacity(k);
        while authors.len() < k {
            let who = if next < n {
                next += 1;
                next - 1
            } else {
                rng.gen_range(0..n)
            };
            if !authors.contains(&who) {
                authors.push(who);
            }
        }
        authors_of.push(authors);
    }
    for (turn, who) in (next..n).enumerate() {
        authors_of[turn % count].push(who);
    }
    let mut papers_of = vec![Vec::new(); n];
    let papers = authors_of
        .into_iter()
        .enumerate()
        .map(|(p, authors)| {
            let added =
                first_collected(researchers, &authors) - Duration::minutes(rng.gen_range(5..120));
            for a in &authors {
                papers_of[*a].push(p);
            }
            Paper {
                title: words::paper_title(rng),
                year: added.min(now).year() - rng.gen_range(0..6),
                venue: words::pick(rng, words::VENUES),
                authors,
                added,
            }
        })
        .collect();
    (papers, papers_of)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn now() -> Time {
        "2026-11-26T10:30:00Z".parse().unwrap()
    }

    #[test]
    fn papers_have_one_to_twelve_authors_and_every_researcher_is_on_one() {
        let spec = ScaleSpec {
            researchers: 3_000,
            papers: Some(1_000),
            ..ScaleSpec::at_scale(1)
        };
        let people = plan(&spec, now(), &mut StdRng::seed_from_u64(7));
        assert_eq!(people.papers.len(), 1_000);
        let sizes: Vec<usize> = people.papers.iter().map(|p| p.authors.len()).collect();
        assert!(sizes.iter().all(|n| (1..=12).contains(n)), "{sizes:?}");
        assert!(sizes.contains(&1) && sizes.contains(&12), "{sizes:?}");
        assert!(people.papers_of.iter().all(|p| !p.is_empty()));
        // Co-authors overlap: some researchers wrote several papers.
        assert!(people.papers_of.iter().filter(|p| p.len() > 1).count() > 100);
        for p in &people.papers {
            let mut distinct = p.authors.clone();
            distinct.dedup();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), p.authors.len(), "an author twice");
            assert!(p
                .authors
                .iter()
                .all(|a| people.researchers[*a].collected > p.added));
        }
    }

    #[test]
    fn too_few_author_slots_still_put_every_researcher_on_a_paper() {
        let spec = ScaleSpec {
            researchers: 500,
            papers: Some(10),
            ..ScaleSpec::default()
        };
        let people = plan(&spec, now(), &mut StdRng::seed_from_u64(7));
        assert_eq!(people.papers.len(), 10);
        assert!(people.papers_of.iter().all(|p| !p.is_empty()));
    }
}
