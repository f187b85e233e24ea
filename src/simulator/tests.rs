//! Integration-style tests of the simulator over real HTTP.
