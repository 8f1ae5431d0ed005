//! A measure of a finished unit, declared once per kind of scenario: its name (the column every table
//! that shows it uses), its unit and how it is read. The reaching measures are
//! [`findings::REACHING`](crate::reaching::findings::REACHING) (read from a unit's `summary.json` and
//! `analysis.json`), the task measures [`tasks::results::TASKS`](crate::tasks::results::TASKS) (from its
//! `result.json`); the comparison between arms, a sweep's collection and the findings over seeds iterate
//! them, so adding a measure is one entry there (and, for reaching, the field it reads).

/// How one measure is read from `R`, what a kind of scenario reads a finished unit into.
pub struct Measure<R> {
    pub name: &'static str,
    /// `""` for a ratio or a count.
    pub unit: &'static str,
    pub read: fn(&R) -> f64,
    /// One of the measures the comparison between arms tests (paired by seed).
    pub compared: bool,
}

impl<R> Measure<R> {
    /// A measure not compared between arms.
    pub const fn new(name: &'static str, unit: &'static str, read: fn(&R) -> f64) -> Self {
        Measure {
            name,
            unit,
            read,
            compared: false,
        }
    }

    /// The same measure, compared between arms.
    pub const fn compared(self) -> Self {
        Measure { compared: true, ..self }
    }
}
