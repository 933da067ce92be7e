Code.require_file("../T.exs", __DIR__)
T.run(fn ->
  pid = spawn(fn -> receive do :crash -> raise "boom" end end)
  T.out("link", Process.link(pid))
  T.out("sending", :crash)
  send(pid, :crash)
  T.settle()
end)
T.done()
