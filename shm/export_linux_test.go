package shm

// inDir makes the segment live in dir instead of the system's
// shared-memory directory, so that a test can run on a small tmpfs.
func inDir(dir string) Option { return optionFunc(func(c *config) { c.dir = dir }) }
