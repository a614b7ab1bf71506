//! A small mutation fuzzer for the parsers that take bytes from the
//! network. Each [`Target`] starts from valid seeds, mutates them (bit
//! flips, byte edits, insertions, deletions, truncations, splices,
//! interesting integers) and feeds the result to the parser for a time
//! budget; a panic is a failure, reported with the input and the seed that
//! reproduces it. No coverage guidance: the seeds are real encodings, so
//! mutations land on the structure the parsers walk.
//!
//! `cargo run -p satstore-tests --bin fuzz -- --seconds 10` runs every
//! target (`--target NAME` picks some, `--seed N` replays a run).

pub mod gateway;
pub mod targets;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Feeds one input to a parser.
pub type Parser = Box<dyn Fn(&[u8]) + Send + Sync>;

/// One parser under test.
pub struct Target {
    /// Name for the command line and reports.
    pub name: &'static str,
    /// Valid (or nearly valid) inputs to start from.
    pub seeds: Vec<Vec<u8>>,
    /// Feeds one input to the parser; must not panic, whatever the input.
    pub run: Parser,
}

/// What a run of one target did.
#[derive(Debug)]
pub struct Report {
    /// Target name.
    pub name: &'static str,
    /// Inputs tried.
    pub iterations: u64,
}

/// A failing input.
#[derive(Debug)]
pub struct Failure {
    /// Target name.
    pub name: &'static str,
    /// The input that panicked, hex.
    pub input_hex: String,
    /// The panic message.
    pub message: String,
    /// The run's seed.
    pub seed: u64,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "target {} panicked ({}) on input {} (replay with --target {} --seed {})",
            self.name, self.message, self.input_hex, self.name, self.seed
        )
    }
}

const INTERESTING: [u64; 10] = [
    0,
    1,
    0x7f,
    0xff,
    0x7fff,
    0xffff,
    0x7fff_ffff,
    0xffff_ffff,
    0x7fff_ffff_ffff_ffff,
    u64::MAX,
];

/// One mutation of `input` (sometimes spliced with another seed).
pub fn mutate(rng: &mut StdRng, input: &[u8], seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    let rounds = 1 + rng.random_range(0..4);
    for _ in 0..rounds {
        let len = out.len();
        match rng.random_range(0..9) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                out[i] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                out[i] = rng.random();
            }
            2 => {
                let i = rng.random_range(0..=len);
                let n = 1 + rng.random_range(0..16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                out.splice(i..i, bytes);
            }
            3 if len > 0 => {
                let i = rng.random_range(0..len);
                let n = 1 + rng.random_range(0..(len - i).min(32));
                out.drain(i..i + n);
            }
            4 if len > 0 => {
                out.truncate(rng.random_range(0..len));
            }
            5 if len >= 4 => {
                // An interesting integer, big-endian, of 1, 2, 4 or 8 bytes.
                let v = INTERESTING[rng.random_range(0..INTERESTING.len())];
                let width = [1usize, 2, 4, 8][rng.random_range(0..4)].min(len);
                let i = rng.random_range(0..=len - width);
                let be = v.to_be_bytes();
                out[i..i + width].copy_from_slice(&be[8 - width..]);
            }
            6 if len > 0 => {
                // Duplicate a slice (repeated fields, long lists).
                let i = rng.random_range(0..len);
                let n = 1 + rng.random_range(0..(len - i).min(64));
                let piece = out[i..i + n].to_vec();
                let at = rng.random_range(0..=len);
                out.splice(at..at, piece);
            }
            7 if !seeds.is_empty() => {
                // Splice the head of this input with the tail of a seed.
                let other = &seeds[rng.random_range(0..seeds.len())];
                let cut = rng.random_range(0..=len);
                let from = rng.random_range(0..=other.len());
                out.truncate(cut);
                out.extend_from_slice(&other[from..]);
            }
            _ => {
                // Fresh random bytes.
                let n = rng.random_range(0..64);
                out = (0..n).map(|_| rng.random()).collect();
            }
        }
    }
    out
}

fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = e.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = e.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic".to_string()
    }
}

/// Runs `target` for `budget` (at least its seeds once) from `seed`.
pub fn run(target: &Target, budget: Duration, seed: u64) -> Result<Report, Failure> {
    let mut rng = StdRng::seed_from_u64(seed);
    let start = Instant::now();
    let mut iterations = 0u64;
    let mut corpus = target.seeds.clone();
    if corpus.is_empty() {
        corpus.push(Vec::new());
    }
    let try_one = |input: &[u8]| -> Result<(), Failure> {
        catch_unwind(AssertUnwindSafe(|| (target.run)(input))).map_err(|e| Failure {
            name: target.name,
            input_hex: satstore_common::hex::encode(input),
            message: panic_message(e.as_ref()),
            seed,
        })
    };
    for s in &target.seeds {
        try_one(s)?;
        iterations += 1;
    }
    while start.elapsed() < budget {
        let base = &corpus[rng.random_range(0..corpus.len())];
        let input = mutate(&mut rng, base, &target.seeds);
        try_one(&input)?;
        iterations += 1;
        // Keep a few mutants as bases too (depth without coverage).
        if iterations.is_multiple_of(64) && corpus.len() < 256 {
            corpus.push(input);
        }
    }
    Ok(Report {
        name: target.name,
        iterations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_parser_is_caught_with_its_input() {
        let t = Target {
            name: "boom",
            seeds: vec![vec![1, 2, 3]],
            run: Box::new(|b| {
                if b.len() > 3 {
                    panic!("too long");
                }
            }),
        };
        // Silence the expected panic's message.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r = run(&t, Duration::from_secs(5), 7);
        std::panic::set_hook(hook);
        let f = r.expect_err("an insertion makes it longer than 3 bytes");
        assert_eq!(f.name, "boom");
        assert!(f.message.contains("too long"));
        assert!(f.input_hex.len() > 6);
    }

    #[test]
    fn every_offline_target_survives_a_short_run() {
        for t in targets::all() {
            let r = run(&t, Duration::from_millis(200), 1).unwrap_or_else(|f| panic!("{f}"));
            assert!(r.iterations > t.seeds.len() as u64, "{}", r.name);
        }
    }

    #[test]
    fn mutations_stay_small_and_vary() {
        let mut rng = StdRng::seed_from_u64(1);
        let seed = vec![0u8; 100];
        let outs: std::collections::HashSet<Vec<u8>> = (0..200)
            .map(|_| mutate(&mut rng, &seed, std::slice::from_ref(&seed)))
            .collect();
        assert!(outs.len() > 150);
        assert!(outs.iter().all(|o| o.len() < 600));
    }
}
