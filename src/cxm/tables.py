"""Import every domain's tables so the shared metadata is complete."""

from cxm.access import models as access_models
from cxm.core import instance as instance_models
from cxm.core import jobs as jobs_models
from cxm.customers import models as customers_models
from cxm.feedback import models as feedback_models
from cxm.interactions import models as interactions_models
from cxm.text import models as text_models

__all__ = [
    "access_models",
    "customers_models",
    "feedback_models",
    "instance_models",
    "interactions_models",
    "jobs_models",
    "text_models",
]
