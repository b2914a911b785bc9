//! The hostile-server suite: the public facade (`Admin`) and the SCIM client against servers
//! that misbehave on purpose. Every test asserts the typed error and that nothing was applied.

mod b5;
mod scim;
mod support;
