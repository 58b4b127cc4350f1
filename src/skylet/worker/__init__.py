"""Code that runs inside the zygote and the instances it forks (never in the platform's loop)."""
