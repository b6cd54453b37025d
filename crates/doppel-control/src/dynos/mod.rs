//! Dynos as users see them: the list `ps` shows ([`view`]), one-off dynos ([`one_off`]) and
//! attaching a terminal to them over Heroku's rendezvous protocol ([`attach`]).

pub mod attach;
pub mod one_off;
pub mod sessions;
pub mod view;
