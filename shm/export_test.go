package shm

// Test hooks: what the tests need of the package that its users must not
// reach.

// unlinkIn is Unlink for a segment in dir (see inDir).
func unlinkIn(dir, name string) error {
	name, err := cleanName("unlink", name)
	if err != nil {
		return err
	}
	return unlinkName(dir, name)
}
