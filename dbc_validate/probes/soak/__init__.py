"""The soak: steady low load, a sampler every interval, samples on disk so an interrupted run can resume."""
