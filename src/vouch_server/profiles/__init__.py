"""Public profiles: how a project presents itself at ``/p/{profile_id}`` and ``/@{username}``,
which verified assets it shows there (and how masked), and the branding of its hosted pages."""
