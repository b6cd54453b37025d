//! Heroku-style names and fresh secrets: add-on names (`postgresql-curly-12345`), the colour
//! of an alias attachment (`HEROKU_POSTGRESQL_AMBER`), and random credentials.

use rand::seq::IndexedRandom;
use rand::Rng;

/// Heroku's attachment colours.
pub const COLORS: &[&str] = &[
    "AMBER", "AQUA", "BLACK", "BLUE", "BRONZE", "BROWN", "CHARCOAL", "COBALT", "COPPER", "CRIMSON",
    "CYAN", "GOLD", "GRAY", "GREEN", "IVORY", "JADE", "LIME", "MAGENTA", "MAROON", "MAUVE", "NAVY",
    "OLIVE", "ONYX", "ORANGE", "PINK", "PURPLE", "RED", "SILVER", "TEAL", "WHITE", "YELLOW",
];

const WORDS: &[&str] = &[
    "curly",
    "shallow",
    "rugged",
    "fluffy",
    "silent",
    "sinuous",
    "crystalline",
    "dimensional",
    "asymmetrical",
    "opaque",
    "solid",
    "vertical",
    "horizontal",
    "triangular",
    "spherical",
    "clear",
    "round",
    "cubed",
    "flat",
    "polished",
    "elliptical",
    "transparent",
    "encircled",
    "parallel",
    "concentric",
    "rigid",
    "angular",
    "tetrahedral",
    "octagonal",
    "convex",
];

/// A new add-on name: `<prefix>-<word>-<five digits>`.
pub fn addon_name(prefix: &str) -> String {
    let mut rng = rand::rng();
    let word = WORDS.choose(&mut rng).copied().unwrap_or("solid");
    format!("{prefix}-{word}-{:05}", rng.random_range(10000..100000))
}

/// A colour not in `taken` (any colour when all are taken).
pub fn color(taken: &[String]) -> String {
    let mut rng = rand::rng();
    let free: Vec<&&str> = COLORS
        .iter()
        .filter(|c| !taken.iter().any(|t| t == **c))
        .collect();
    match free.choose(&mut rng) {
        Some(c) => (**c).to_string(),
        None => COLORS
            .choose(&mut rng)
            .copied()
            .unwrap_or("AMBER")
            .to_string(),
    }
}

/// `n` random lowercase letters and digits (safe in URLs, SQL identifiers and shells).
pub fn token(n: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Fresh credentials: user `u…`, database `d…` (identifiers start with a letter) and a
/// 32-character password (about 165 bits).
pub fn credentials() -> (String, String, String) {
    (
        format!("u{}", token(13)),
        token(32),
        format!("d{}", token(13)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_secrets_have_their_shapes() {
        let name = addon_name("postgresql");
        let parts: Vec<&str> = name.split('-').collect();
        assert_eq!(parts.len(), 3, "{name}");
        assert_eq!(parts[2].len(), 5);
        let (user, password, db) = credentials();
        assert!(user.starts_with('u') && user.len() == 14);
        assert!(db.starts_with('d') && db.len() == 14);
        assert_eq!(password.len(), 32);
        assert_ne!(credentials().1, password);
        let taken: Vec<String> = COLORS[1..].iter().map(|c| c.to_string()).collect();
        assert_eq!(color(&taken), "AMBER");
    }
}
