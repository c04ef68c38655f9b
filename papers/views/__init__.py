"""Views: public.py for readers, review.py for reviewers and editors at /review/."""
