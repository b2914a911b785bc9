//! The hostile-server suite: the public facade against servers that misbehave on purpose.

mod b5;
mod support;
