//! End-to-end tests: real Docker, real git, curl.
