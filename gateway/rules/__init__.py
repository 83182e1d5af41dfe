"""The access rules: who the caller is, what each caller may read (the field view) and
write. Nothing outside this package decides visibility."""
