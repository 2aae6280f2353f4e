"""Study notes per session, with homework and history, and case reviews."""
