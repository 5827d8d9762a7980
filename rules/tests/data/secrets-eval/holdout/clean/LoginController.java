public class LoginController {
    public void login(HttpServletRequest request) {
        String password = request.getParameter("password");
        String token = tokenService.issue(user);
    }
}
