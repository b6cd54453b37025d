//! The Debian packages of the stack images: heroku-24's composition mapped onto bookworm.
//!
//! heroku-24 is Ubuntu 24.04; doppel builds the same-named stack from Debian bookworm so it
//! can be made from Debian's archive alone (no registry). The list is a moderate subset of
//! heroku-24's ~75 named packages, so that a fresh stack builds in a few minutes:
//! - same names on bookworm: the base tools, `locales`, `tzdata`, runtime libraries;
//! - `postgresql-client-16` (PostgreSQL's apt repository on Heroku) → Debian's `postgresql-client-15`;
//! - Heroku downloads language runtimes at build time; doppel's offline buildpacks use
//!   Debian's `python3` and `nodejs` from the stack instead.
//!
//! Omitted for size (add here when needed): imagemagick, libvips42, ffmpeg libraries,
//! openssh-*, bind9-dnsutils, geoip-database, libmariadb3.

/// Packages of the run image (`doppel/heroku-24`), installed by debootstrap over minbase.
pub const RUN_PACKAGES: &[&str] = &[
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

/// Packages added on top of the run image for the build image (`doppel/heroku-24-build`):
/// compilers and headers, as heroku-24-build adds to heroku-24.
pub const BUILD_PACKAGES: &[&str] = &[
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
