// Methods with every kind of receiver, trait impl methods and trait default methods.
use dingscope::{requires_scope, Grant};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

struct Api(u32);

impl Api {
    #[requires_scope("qyapi_hrm_read_user")]
    fn by_ref(&self) -> Result<u32, dingscope::Error> { Ok(self.0) }
    #[requires_scope("qyapi_hrm_read_user")]
    fn by_mut(&mut self) -> Result<u32, dingscope::Error> { self.0 += 1; Ok(self.0) }
    #[requires_scope("qyapi_hrm_read_user")]
    fn by_value(self) -> Result<u32, dingscope::Error> { Ok(self.0) }
    #[requires_scope("qyapi_hrm_read_user")]
    fn by_mut_value(mut self) -> Result<u32, dingscope::Error> { self.0 += 1; Ok(self.0) }
    #[requires_scope("qyapi_hrm_read_user")]
    fn boxed(self: Box<Self>) -> Result<u32, dingscope::Error> { Ok(self.0) }
    #[requires_scope("qyapi_hrm_read_user")]
    fn rc(self: Rc<Self>) -> Result<u32, dingscope::Error> { Ok(self.0) }
    #[requires_scope("qyapi_hrm_read_user")]
    fn arc(self: Arc<Self>) -> Result<u32, dingscope::Error> { Ok(self.0) }
    #[requires_scope("qyapi_hrm_read_user")]
    fn pinned(self: Pin<&mut Self>) -> Result<u32, dingscope::Error> { Ok(self.0) }
    #[requires_scope("qyapi_hrm_read_user")]
    fn explicit_ref<'a>(self: &'a Self) -> Result<&'a u32, dingscope::Error> { Ok(&self.0) }
    #[requires_scope("qyapi_hrm_read_user")]
    fn associated() -> Result<Self, dingscope::Error> { Ok(Api(0)) }
    #[requires_scope("qyapi_hrm_read_user")]
    async fn async_ref(&self) -> Result<u32, dingscope::Error> { Ok(self.0) }
}

trait Directory {
    fn lookup(&self, id: &str) -> Result<String, dingscope::Error>;

    #[requires_scope("Contact.User.Read")]
    fn default_method(&self) -> Result<String, dingscope::Error> {
        Ok("default".into())
    }
}

impl Directory for Api {
    #[requires_scope("Contact.User.Read")]
    fn lookup(&self, id: &str) -> Result<String, dingscope::Error> {
        Ok(format!("{id}:{}", self.0))
    }
}

fn main() {
    let g = Grant::application(["qyapi_hrm_read_user", "Contact.User.Read"]);
    g.run(|| {
        let mut api = Api::associated().unwrap();
        assert_eq!(api.by_ref().unwrap(), 0);
        assert_eq!(api.by_mut().unwrap(), 1);
        assert_eq!(Box::new(Api(2)).boxed().unwrap(), 2);
        assert_eq!(Rc::new(Api(3)).rc().unwrap(), 3);
        assert_eq!(Arc::new(Api(4)).arc().unwrap(), 4);
        let mut p = Api(5);
        assert_eq!(Pin::new(&mut p).pinned().unwrap(), 5);
        assert_eq!(*p.explicit_ref().unwrap(), 5);
        assert_eq!(api.lookup("u").unwrap(), "u:1");
        assert_eq!(api.default_method().unwrap(), "default");
        assert_eq!(Api(6).by_mut_value().unwrap(), 7);
        let _ = api.async_ref();
        assert_eq!(api.by_value().unwrap(), 1);
    });
    assert!(Api(0).by_ref().is_err());
}
