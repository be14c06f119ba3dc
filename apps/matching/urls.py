from .views_staff import staff_paths
from .views_volunteer import volunteer_paths

app_name = "matching"
urlpatterns = [*staff_paths, *volunteer_paths]
