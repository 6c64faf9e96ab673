"""Import every domain's tables so the shared metadata is complete."""

from cxm.access import models as access_models
from cxm.customers import models as customers_models
from cxm.interactions import models as interactions_models

__all__ = ["access_models", "customers_models", "interactions_models"]
