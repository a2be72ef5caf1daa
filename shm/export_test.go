package shm

// Test hooks: what the tests need of the package that its users must not
// reach.

// inDir makes the segment live in dir instead of the system's
// shared-memory directory, so that a test can run on a small tmpfs.
func inDir(dir string) Option { return optionFunc(func(c *config) { c.dir = dir }) }

// unlinkIn is Unlink for a segment in dir (see inDir).
func unlinkIn(dir, name string) error {
	name, err := cleanName("unlink", name)
	if err != nil {
		return err
	}
	return unlinkName(dir, name)
}
