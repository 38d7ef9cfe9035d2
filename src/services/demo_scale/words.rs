//! The words generated rows are made of: names, places, paper titles,
//! session topics, review comments. Made up, but shaped like the real
//! thing (accents, apostrophes, quotes and commas included, so exports and
//! pages meet them).

use rand::seq::SliceRandom;
use rand::Rng;

pub const FIRST: &[&str] = &[
    "Ada",
    "Alan",
    "Amara",
    "Ana",
    "Anders",
    "Aoife",
    "Ayesha",
    "Beatriz",
    "Bjørn",
    "Carlos",
    "Chen",
    "Chiara",
    "Dmitri",
    "Elena",
    "Emeka",
    "Fatima",
    "Felix",
    "Grace",
    "Hana",
    "Hiroshi",
    "Ines",
    "Ivan",
    "Jan",
    "Javier",
    "Jia",
    "Johanna",
    "Kai",
    "Kemal",
    "Lars",
    "Leila",
    "Lucía",
    "Marek",
    "Maria",
    "Mei",
    "Mohammed",
    "Nadia",
    "Niamh",
    "Noah",
    "Olga",
    "Omar",
    "Paolo",
    "Priya",
    "Rafael",
    "Rosa",
    "Sakura",
    "Samuel",
    "Sofia",
    "Søren",
    "Tariq",
    "Thomas",
    "Ursula",
    "Valentina",
    "Wei",
    "Yara",
    "Yusuf",
    "Zoë",
];

pub const LAST: &[&str] = &[
    "Abara",
    "Andersen",
    "Bauer",
    "Becker",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fernández",
    "Fischer",
    "García",
    "Haddad",
    "Hoffmann",
    "Ivanova",
    "Jansen",
    "Kim",
    "Kowalski",
    "Larsen",
    "Lefèvre",
    "Li",
    "Martin",
    "Moreau",
    "Müller",
    "Nakamura",
    "Nguyen",
    "Novák",
    "O'Brien",
    "Okafor",
    "Park",
    "Patel",
    "Petrov",
    "Rossi",
    "Santos",
    "Schmidt",
    "Schneider",
    "Silva",
    "Singh",
    "Suzuki",
    "Tanaka",
    "Van der Berg",
    "Wagner",
    "Wang",
    "Weber",
    "Wójcik",
    "Yamamoto",
    "Zhang",
];

pub const UNIVERSITIES: &[&str] = &[
    "University of Bonn",
    "Heidelberg University",
    "ETH Zürich",
    "Sorbonne University",
    "University of Amsterdam",
    "KU Leuven",
    "University of Oxford",
    "University College London",
    "University of Edinburgh",
    "Universidad Complutense de Madrid",
    "Politecnico di Milano",
    "University of Copenhagen",
    "MIT",
    "Stanford University",
    "University of California, Berkeley",
    "University of Toronto",
    "University of Tokyo",
    "University of Sydney",
    "Max Planck Institute for Informatics",
    "Charles University",
];

pub const FIELDS: &[&str] = &[
    "graph neural networks",
    "protein folding",
    "causal inference",
    "climate models",
    "quantum error correction",
    "sparse linear algebra",
    "language models",
    "single-cell sequencing",
    "game theory",
    "topological data analysis",
    "computational linguistics",
    "epidemiology",
    "distributed consensus",
    "materials discovery",
    "behavioural economics",
    "differential privacy",
    "robot learning",
    "dark matter surveys",
    "urban mobility",
    "medical imaging",
];

const TITLE_OPENINGS: &[&str] = &[
    "Towards",
    "Revisiting",
    "Scaling",
    "A Survey of",
    "Learning",
    "On the Limits of",
    "Efficient",
    "Robust",
    "Understanding",
    "Benchmarking",
];

const TITLE_ENDINGS: &[&str] = &[
    "in Practice",
    "in the Wild",
    "with Few Labels",
    "under Distribution Shift",
    "for Small Laboratories",
    "without Retraining",
    "from First Principles",
    "Revisited",
];

pub const VENUES: &[&str] = &[
    "Nature",
    "Science",
    "PNAS",
    "NeurIPS",
    "ICML",
    "ACL",
    "Physical Review Letters",
    "The Lancet",
    "Cell",
    "SIGMOD",
];

/// Session topics; some with quotes and commas, as people write them.
pub const TOPICS: &[&str] = &[
    "Questions about the proof in section 3",
    "How to reproduce Table 2 on our own data",
    "Choosing hyper-parameters for a small data set",
    "Whether the method applies to time series, and how",
    "The \"robustness\" claim in the discussion",
    "Feedback on my thesis chapter that builds on this paper",
    "Licensing of the released code and data",
    "Extending the model to a second language",
    "Statistical power of the main experiment",
    "Pointers to related work I may have missed",
    "Setting up the simulation from the appendix",
    "Clinical relevance of the findings, in plain words",
];

pub const COMMENTS: &[&str] = &[
    "A clear walk through the proofs, and good pointers for further reading.",
    "Very patient; answered every question and sent the notebook afterwards.",
    "Helpful, though we ran out of time for the last part.",
    "Exactly what I needed to get the experiment running.",
    "Kind and precise. I would book again.",
    "Good session, a little rushed at the start.",
    "Explained the \"why\", not just the \"how\".",
    "Useful, but most of it was already in the paper.",
];

pub const REPLIES: &[&str] = &[
    "Thank you, it was a pleasure to discuss it.",
    "Glad it helped; write again when the results are in.",
    "Thanks for the feedback, I will keep more time for questions next time.",
];

pub const CANCEL_REASONS: &[&str] = &[
    "Something came up at work, sorry.",
    "I have to travel that week.",
    "Found the answer in the supplementary material.",
    "Illness; I will book again later.",
    "A conflicting faculty meeting was moved to this time.",
];

/// One entry of a list; the lists here are never empty.
pub fn pick<'a, R: Rng>(rng: &mut R, list: &[&'a str]) -> &'a str {
    list.choose(rng).copied().unwrap_or_default()
}

pub fn person<R: Rng>(rng: &mut R) -> String {
    format!("{} {}", pick(rng, FIRST), pick(rng, LAST))
}

pub fn paper_title<R: Rng>(rng: &mut R) -> String {
    let field = pick(rng, FIELDS);
    let mut title = format!("{} {field}", pick(rng, TITLE_OPENINGS));
    if rng.gen_bool(0.5) {
        title.push(' ');
        title.push_str(pick(rng, TITLE_ENDINGS));
    }
    title
}
