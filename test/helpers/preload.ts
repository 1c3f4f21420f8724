// Replaced by the test infrastructure (leak check).
