"""Result images: the guarded download (fetch), Pillow (processing), the
archive and what the views serve (services), and their errors."""
