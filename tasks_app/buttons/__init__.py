"""A task's buttons: reading them (rows, quadrants), pressing them, finishing a
MODAL form (masks), cancelling. Each press starts a paid job at the relay."""
