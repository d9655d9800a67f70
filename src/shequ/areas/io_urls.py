"""URLs of tree import/export (areas/treeio views); included by areas/urls.py."""

urlpatterns: list = []
