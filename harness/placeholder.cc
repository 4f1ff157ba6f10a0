namespace lockstep::harness {}
