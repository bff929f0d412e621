"""Small pieces every Legion node shares."""
